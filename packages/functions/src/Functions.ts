/**
 * The Functions service: create, deploy (zip, upload, create, wait until `Ready`), list, retrieve, delete,
 * and the project's limits and activation status.
 *
 * @example
 * ```ts
 * import { Functions } from "@effect-cdf/functions/Functions"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const functions = yield* Functions
 *   const fn = yield* functions.deploy({ name: "hello", externalId: "hello", source: { folder: "./hello" } })
 *   yield* Effect.log(`function ${fn.id} is ${fn.status}`)
 * })
 * ```
 *
 * @since 0.1.0
 */
import { CogniteFunction, FunctionsLimits, Items } from "@effect-cdf/core"
import type { FunctionSchedule, Ids } from "@effect-cdf/core"
import type { DeployFailed, NotFound, UntrustedUrl } from "@effect-cdf/core/Errors"
import { CdfClient } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import type { HttpClient } from "@effect/platform"
import type { Duration, Redacted, Schedule } from "effect"
import { Context, Effect, Layer, Option } from "effect"
import type { ConfigError } from "effect"
import * as FunctionRef from "./FunctionRef.js"
import { cachedLimits, functionsByIds, LIST_ALL, read, retrieveFunction, write } from "./internal/api.js"
import { definedOnly } from "./internal/defined.js"
import * as Deploy from "./internal/deploy.js"
import { decodeInput, encode } from "./internal/encode.js"
import { fromEnv } from "./internal/env.js"
import * as Schedules from "./Schedules.js"
import type { ReadError, WriteError } from "./ServiceError.js"
import * as Sessions from "./Sessions.js"

/** The functions service. */
export class Functions extends Context.Tag("@effect-cdf/functions/Functions")<Functions, Functions.Service>() {}

/** The types of the `Functions` service. */
export declare namespace Functions {
  /** Every error a functions request can end with; each method's type says which of them it can. */
  export type Error = WriteError | DeployError

  /** What a deploy can fail with: its writes, the build (`DeployFailed`), an upload URL that is not trusted. */
  export type DeployError = WriteError | DeployFailed | UntrustedUrl

  /** What the functions service offers. */
  export interface Service {
    /** `POST /functions` with one function whose zip is already in the Files API; secrets are sent as strings. */
    readonly create: (
      write: CogniteFunction.FunctionWrite
    ) => Effect.Effect<CogniteFunction.CogniteFunction, WriteError>
    /**
     * Zips a folder or in-memory files, uploads the zip, creates the function and waits until it is
     * `Ready`. All input is checked before anything is sent.
     */
    readonly deploy: (options: DeployOptions) => Effect.Effect<CogniteFunction.CogniteFunction, DeployError>
    /**
     * `deploy`, telling what it did: `created`, `unchanged` (this content and these settings are what the
     * function with this external id was deployed from: nothing is sent) or `replaced`.
     */
    readonly apply: (options: DeployOptions) => Effect.Effect<Deployed, DeployError>
    /** `POST /functions/list`: one request, not paginated; every function (up to 10,000) unless `limit` is given. */
    readonly list: (options?: ListOptions) => Effect.Effect<ReadonlyArray<CogniteFunction.CogniteFunction>, ReadError>
    /** One function; `NotFound` when it does not exist. */
    readonly retrieve: (ref: FunctionRef.FunctionRef) => Effect.Effect<CogniteFunction.CogniteFunction, ReadError>
    /** One function, or `None` when it does not exist. */
    readonly retrieveOption: (
      ref: FunctionRef.FunctionRef
    ) => Effect.Effect<Option.Option<CogniteFunction.CogniteFunction>, Exclude<ReadError, NotFound>>
    /** Several functions, in chunks of 10 sent concurrently; unknown ones fail with `NotFound` unless ignored. */
    readonly retrieveMany: (
      refs: ReadonlyArray<FunctionRef.FunctionRef>,
      options?: ByIdsOptions
    ) => Effect.Effect<ReadonlyArray<CogniteFunction.CogniteFunction>, ReadError>
    /**
     * Deletes functions, in chunks of 10 (ids first, then external ids). Their zips stay in the Files API.
     * A failure can leave earlier chunks deleted.
     */
    readonly delete: (
      refs: ReadonlyArray<FunctionRef.FunctionRef>,
      options?: ByIdsOptions
    ) => Effect.Effect<void, WriteError>
    /** The project's limits (`GET /functions/limits`), fetched once per `CdfClient` (a failed read is tried again). */
    readonly limits: Effect.Effect<FunctionsLimits.FunctionsLimits, ReadError>
    /** Whether Functions is activated for the project (`GET /functions/status`). */
    readonly status: Effect.Effect<FunctionsLimits.FunctionsStatus, ReadError>
    /** Asks for Functions to be activated (`POST /functions/status`); idempotent. */
    readonly activate: Effect.Effect<FunctionsLimits.FunctionsStatus, ReadError>
  }
}

/** The filter of `list`, in plain values: every field is optional and they combine with AND. */
export interface FunctionFilterInput {
  readonly name?: string | undefined
  readonly owner?: string | undefined
  readonly fileId?: number | undefined
  readonly status?: CogniteFunction.FunctionStatus | undefined
  readonly externalIdPrefix?: string | undefined
  /** An inclusive range of epoch milliseconds. */
  readonly createdTime?: { readonly min?: number | undefined; readonly max?: number | undefined } | undefined
  readonly metadata?: Readonly<Record<string, string>> | undefined
}

/** The options of `list`. */
export interface ListOptions {
  readonly filter?: FunctionFilterInput | undefined
  /** At most this many functions; by default every one (the request asks for 10,000). */
  readonly limit?: number | undefined
}

/** The options of `retrieveMany` and `delete`. */
export interface ByIdsOptions {
  /** Skip ids that do not exist instead of failing with `NotFound`. Default `false`. */
  readonly ignoreUnknownIds?: boolean | undefined
}

/** Where the code of a deployment comes from: a folder on disk, or files in memory keyed by POSIX path. */
export type DeploySource =
  | { readonly folder: string; readonly files?: undefined }
  | { readonly files: Readonly<Record<string, string | Uint8Array>>; readonly folder?: undefined }

/** A step of a deployment, for progress output. */
export type DeployProgress =
  | { readonly stage: "zipped"; readonly files: number; readonly bytes: number }
  | { readonly stage: "uploaded"; readonly fileId: Ids.FileId }
  | { readonly stage: "created"; readonly functionId: Ids.FunctionId }
  | { readonly stage: "status"; readonly functionId: Ids.FunctionId; readonly status: CogniteFunction.FunctionStatus }
  /** The function with this external id was deployed from this very content: nothing is deployed. */
  | { readonly stage: "unchanged"; readonly functionId: Ids.FunctionId }
  /** The function with this external id is being replaced (`onExists: "replace"`). */
  | { readonly stage: "replacing"; readonly functionId: Ids.FunctionId }

/** What a deploy did, and the function that is now in place. */
export interface Deployed {
  /** The function, `Ready`. */
  readonly function: CogniteFunction.CogniteFunction
  /**
   * `created`: there was none with this external id; `unchanged`: one was deployed from this very content
   * and settings, and nothing was sent; `replaced`: the old one was deleted and this one created.
   */
  readonly outcome: "created" | "unchanged" | "replaced"
  /** The content hash, as stored in `metadata["effect-cdf-hash"]`. */
  readonly hash: string
  /** The schedules recreated (with fresh nonces) on the replacement. */
  readonly schedules: ReadonlyArray<FunctionSchedule.FunctionSchedule>
}

/** The options of `deploy`. */
export interface DeployOptions {
  /** The function's name (1..140 characters); the zip is named `<name>.zip`. */
  readonly name: string
  /**
   * The function's external id; the zip gets it too and replaces a file with the same external id. A
   * function that already has it is a `Conflict` before anything is uploaded.
   */
  readonly externalId?: string | undefined
  readonly source: DeploySource
  /**
   * The handler inside the zip, a relative POSIX path ending in `.py`. Default `handler.py`. Whether the bundle
   * runs is CDF's to judge: a handler it cannot load fails the build (`DeployFailed` with its message).
   */
  readonly functionPath?: string | undefined
  readonly description?: string | undefined
  readonly owner?: string | undefined
  /** Secrets the handler receives; plain strings are wrapped in `Redacted` at once. */
  readonly secrets?: Readonly<Record<string, Redacted.Redacted<string> | string>> | undefined
  readonly envVars?: Readonly<Record<string, string>> | undefined
  readonly cpu?: number | undefined
  readonly memory?: number | undefined
  readonly runtime?: CogniteFunction.FunctionRuntime | undefined
  readonly metadata?: Readonly<Record<string, string>> | undefined
  /** A package index for the function's `requirements.txt`, and extra ones. */
  readonly indexUrl?: string | undefined
  readonly extraIndexUrls?: ReadonlyArray<string> | undefined
  /** The data set the zip file goes into. */
  readonly dataSetId?: number | undefined
  /** How long to wait for `Ready` after the function is created. Default 15 minutes. */
  readonly waitTimeout?: Duration.DurationInput | undefined
  /** The longest wait between two status checks; the first come sooner (0.5 s, 1 s, 2 s, ... doubling). Default 10 s. */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** The schedule of the status checks, replacing the one `pollInterval` shapes (see `readySchedule`). */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** Called after each step, for example to print progress. */
  readonly onProgress?: ((event: DeployProgress) => Effect.Effect<void>) | undefined
  /**
   * When a function with this external id exists with other content or settings: `"fail"` (the default)
   * is a `Conflict` naming this option; `"replace"` builds the new one first, then deletes the old one and
   * its schedules and recreates them on the new one. The same content is never deployed twice.
   */
  readonly onExists?: "fail" | "replace" | undefined
}

/** The default `waitTimeout` of `deploy`. */
export const DEFAULT_WAIT_TIMEOUT: Duration.Duration = Deploy.DEFAULT_WAIT_TIMEOUT

/** The default `pollInterval` of `deploy`. */
export const DEFAULT_POLL_INTERVAL: Duration.Duration = Deploy.DEFAULT_POLL_INTERVAL

/** How long `deploy` waits for the Files API to report the upload. */
export const UPLOAD_WAIT: Duration.Duration = Deploy.UPLOAD_WAIT

/** The schedule of a deploy's status checks: 0.5 s, 1 s, 2 s, ... doubling up to `pollInterval`. */
export const readySchedule: (pollInterval: Duration.DurationInput) => Schedule.Schedule<unknown> = Deploy.readySchedule

/** The `limit` a `list` without one sends: all functions, as the Python SDK asks for an unlimited list. */
export { LIST_ALL }

const FunctionItems = Items.Items(CogniteFunction.CogniteFunction)
const encodeWrite = encode(CogniteFunction.FunctionWrite, "function")
const decodeListRequest = decodeInput(CogniteFunction.FunctionListRequest, "function list request")
const encodeListRequest = encode(CogniteFunction.FunctionListRequest, "function list request")

/** Distinct identifiers, ids before external ids, as the Python SDK orders a delete. */
const idsFirst = (refs: ReadonlyArray<FunctionRef.ValidRef>): Array<Ids.Identifier> => {
  const ids = new Set<Ids.FunctionId>()
  const xids = new Set<Ids.ExternalId>()
  for (const ref of refs) {
    if (ref._tag === "Id") ids.add(ref.id)
    else xids.add(ref.externalId)
  }
  return [...[...ids].map((id) => ({ id })), ...[...xids].map((externalId) => ({ externalId }))]
}

/** Distinct identifiers in the order given. */
const distinct = (refs: ReadonlyArray<FunctionRef.ValidRef>): Array<Ids.Identifier> => {
  const seen = new Set<string>()
  const out: Array<Ids.Identifier> = []
  for (const ref of refs) {
    const key = ref._tag === "Id" ? `id:${ref.id}` : `xid:${ref.externalId}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(FunctionRef.toIdentifier(ref))
  }
  return out
}

/** A functions service over a CDF client. */
export const make: Effect.Effect<Functions.Service, never, CdfClient> = Effect.gen(function*() {
  const client = yield* CdfClient

  const create = Effect.fn("Functions.create")(function*(input: CogniteFunction.FunctionWrite) {
    const item = yield* encodeWrite(input)
    const response = yield* write(client, {
      operation: "cdf.Functions.create",
      method: "POST",
      path: path`/functions`,
      safety: "unsafe",
      body: { items: [item] },
      schema: FunctionItems
    })
    const created = response.items[0]
    if (created === undefined) return yield* Effect.die(new Error("POST /functions answered with no function"))
    return created
  })

  const list = Effect.fn("Functions.list")(function*(options: ListOptions = {}) {
    const request = yield* decodeListRequest(definedOnly({
      filter: options.filter === undefined ? {} : definedOnly({
        ...options.filter,
        createdTime: options.filter.createdTime === undefined ? undefined : definedOnly(options.filter.createdTime)
      }),
      limit: options.limit ?? LIST_ALL
    }))
    const body = yield* encodeListRequest(request)
    const response = yield* read(client, {
      operation: "cdf.Functions.list",
      method: "POST",
      path: path`/functions/list`,
      body,
      schema: FunctionItems
    })
    return response.items
  })

  const retrieve = Effect.fn("Functions.retrieve")(function*(ref: FunctionRef.FunctionRef) {
    const valid = yield* FunctionRef.validate(ref)
    return yield* retrieveFunction(client, valid)
  })

  const retrieveOption = Effect.fn("Functions.retrieveOption")(function*(ref: FunctionRef.FunctionRef) {
    const valid = yield* FunctionRef.validate(ref)
    return yield* retrieveFunction(client, valid).pipe(
      Effect.map(Option.some),
      Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
    )
  })

  const retrieveMany = Effect.fn("Functions.retrieveMany")(
    function*(refs: ReadonlyArray<FunctionRef.FunctionRef>, options: ByIdsOptions = {}) {
      const valid = yield* Effect.forEach(refs, FunctionRef.validate)
      const ignoreUnknownIds = options.ignoreUnknownIds ?? false
      const pages = yield* client.chunked(
        distinct(valid),
        Items.ItemLimits.functionsByIds,
        (chunk) => functionsByIds(client, chunk, ignoreUnknownIds)
      )
      return pages.flat()
    }
  )

  const delete_ = Effect.fn("Functions.delete")(
    function*(refs: ReadonlyArray<FunctionRef.FunctionRef>, options: ByIdsOptions = {}) {
      const valid = yield* Effect.forEach(refs, FunctionRef.validate)
      const ignoreUnknownIds = options.ignoreUnknownIds ?? false
      yield* client.chunked(idsFirst(valid), Items.ItemLimits.functionsDelete, (chunk) =>
        write(client, {
          operation: "cdf.Functions.delete",
          method: "POST",
          path: path`/functions/delete`,
          safety: "unsafe",
          body: { items: chunk, ignoreUnknownIds },
          schema: Items.EmptyResponse
        }))
    }
  )

  const limits = cachedLimits(client).pipe(Effect.withSpan("Functions.limits"))

  // GET reads the status, POST asks for activation: the same resource and answer
  const functionsStatus = (method: "GET" | "POST", name: "status" | "activate") =>
    read(client, {
      operation: `cdf.Functions.${name}`,
      method,
      path: path`/functions/status`,
      schema: FunctionsLimits.FunctionsStatus
    }).pipe(Effect.withSpan(`Functions.${name}`))

  const status = functionsStatus("GET", "status")

  // activating twice is activating once: safe to re-send
  const activate = functionsStatus("POST", "activate")

  // replacing a function recreates its schedules: with the client's sessions when they are around
  const sessions = yield* Effect.serviceOption(Sessions.Sessions)
  const schedules = yield* Schedules.make.pipe(
    Effect.provideService(CdfClient, client),
    Effect.provideServiceEffect(
      Sessions.Sessions,
      Option.match(sessions, {
        onNone: () => Effect.provideService(Sessions.make(), CdfClient, client),
        onSome: Effect.succeed
      })
    )
  )
  const remove = (id: number) => delete_([id])
  const apply = Deploy.makeDeploy(client, create, { remove, schedules })
  const deploy = (options: DeployOptions) => Effect.map(apply(options), (deployed) => deployed.function)

  return Functions.of({
    create,
    deploy,
    apply,
    list,
    retrieve,
    retrieveOption,
    retrieveMany,
    delete: delete_,
    limits,
    status,
    activate
  })
})

/** The functions service as a layer over a `CdfClient`. */
export const layer: Layer.Layer<Functions, never, CdfClient> = Layer.effect(Functions, make)

/**
 * The service with its client, auth and sessions from the `COGNITE_*` variables; only the `HttpClient` is
 * left to provide. To use several services, prefer `CogniteFunctions.layerConfig`: one client for all.
 */
export const layerConfig: Layer.Layer<Functions, ConfigError.ConfigError, HttpClient.HttpClient> = layer.pipe(
  Layer.provide(fromEnv)
)
