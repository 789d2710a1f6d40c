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
import { CogniteFunction, ErrorEnvelope, Files, FunctionsLimits, Items, Scrub } from "@effect-cdf/core"
import type { Ids } from "@effect-cdf/core"
import { Conflict, DeployFailed, InvalidInput, RequestDescription, TransportError } from "@effect-cdf/core/Errors"
import type { NotFound } from "@effect-cdf/core/Errors"
import { CdfClient } from "@effect-cdf/http/CdfClient"
import type { CdfClient as CdfClientNs } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import type { HttpClient } from "@effect/platform"
import { Clock, Context, Duration, Effect, Layer, Option, Redacted } from "effect"
import type { ConfigError } from "effect"
import * as FunctionRef from "./FunctionRef.js"
import { cachedLimits, functionsByIds, retrieveFunction } from "./internal/api.js"
import { definedOnly } from "./internal/defined.js"
import { decodeInput, encode } from "./internal/encode.js"
import { fromEnv } from "./internal/env.js"
import * as Zip from "./internal/zip.js"

/** The functions service. */
export class Functions extends Context.Tag("@effect-cdf/functions/Functions")<Functions, Functions.Service>() {}

/** The types of the `Functions` service. */
export declare namespace Functions {
  /** Every error a functions request can end with. */
  export type Error = CdfClientNs.Error

  /** What the functions service offers. */
  export interface Service {
    /** `POST /functions` with one function whose zip is already in the Files API; secrets are sent as strings. */
    readonly create: (write: CogniteFunction.FunctionWrite) => Effect.Effect<CogniteFunction.CogniteFunction, Error>
    /**
     * Zips a folder or in-memory files, uploads the zip, creates the function and waits until it is
     * `Ready`. All input is checked before anything is sent.
     */
    readonly deploy: (options: DeployOptions) => Effect.Effect<CogniteFunction.CogniteFunction, Error | DeployFailed>
    /** `POST /functions/list`: one request, not paginated; every function (up to 10,000) unless `limit` is given. */
    readonly list: (options?: ListOptions) => Effect.Effect<ReadonlyArray<CogniteFunction.CogniteFunction>, Error>
    /** One function; `NotFound` when it does not exist. */
    readonly retrieve: (ref: FunctionRef.FunctionRef) => Effect.Effect<CogniteFunction.CogniteFunction, Error>
    /** One function, or `None` when it does not exist. */
    readonly retrieveOption: (
      ref: FunctionRef.FunctionRef
    ) => Effect.Effect<Option.Option<CogniteFunction.CogniteFunction>, Exclude<Error, NotFound>>
    /** Several functions, in chunks of 10 sent concurrently; unknown ones fail with `NotFound` unless ignored. */
    readonly retrieveMany: (
      refs: ReadonlyArray<FunctionRef.FunctionRef>,
      options?: ByIdsOptions
    ) => Effect.Effect<ReadonlyArray<CogniteFunction.CogniteFunction>, Error>
    /**
     * Deletes functions, in chunks of 10 (ids first, then external ids). Their zips stay in the Files API.
     * A failure can leave earlier chunks deleted.
     */
    readonly delete: (
      refs: ReadonlyArray<FunctionRef.FunctionRef>,
      options?: ByIdsOptions
    ) => Effect.Effect<void, Error>
    /** The project's limits (`GET /functions/limits`), fetched once and kept for the life of the service. */
    readonly limits: Effect.Effect<FunctionsLimits.FunctionsLimits, Error>
    /** Whether Functions is activated for the project (`GET /functions/status`). */
    readonly status: Effect.Effect<FunctionsLimits.FunctionsStatus, Error>
    /** Asks for Functions to be activated (`POST /functions/status`); idempotent. */
    readonly activate: Effect.Effect<FunctionsLimits.FunctionsStatus, Error>
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
  /** The handler inside the zip, a relative POSIX path ending in `.py`. Default `handler.py`. */
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
  /** Called after each step, for example to print progress. */
  readonly onProgress?: ((event: DeployProgress) => Effect.Effect<void>) | undefined
}

/** The default `waitTimeout` of `deploy`. */
export const DEFAULT_WAIT_TIMEOUT: Duration.Duration = Duration.minutes(15)

/** The default `pollInterval` of `deploy`. */
export const DEFAULT_POLL_INTERVAL: Duration.Duration = Duration.seconds(10)

/** How long `deploy` waits for the Files API to report the upload. */
export const UPLOAD_WAIT: Duration.Duration = Duration.seconds(60)

/** The `limit` a `list` without one sends: all functions, as the Python SDK asks for an unlimited list. */
export const LIST_ALL = 10_000

const FunctionItems = Items.Items(CogniteFunction.CogniteFunction)
const FileItems = Items.Items(Files.FileMetadata)
const encodeWrite = encode(CogniteFunction.FunctionWrite, "function")
const decodeWrite = decodeInput(CogniteFunction.FunctionWrite, "function")
const decodeListRequest = decodeInput(CogniteFunction.FunctionListRequest, "function list request")
const encodeListRequest = encode(CogniteFunction.FunctionListRequest, "function list request")
const encodeFileCreate = encode(Files.FileCreate, "file")

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

const durationInput = (subject: string, input: Duration.DurationInput | undefined, fallback: Duration.Duration) => {
  if (input === undefined) return Effect.succeed(fallback)
  return Option.match(Duration.decodeUnknown(input), {
    onNone: () => Effect.fail(new InvalidInput({ subject, issue: "not a duration" })),
    onSome: (duration) =>
      Duration.isFinite(duration) && Duration.toMillis(duration) > 0
        ? Effect.succeed(duration)
        : Effect.fail(new InvalidInput({ subject, issue: "a duration above zero and finite" }))
  })
}

const PLACEHOLDER_FILE_ID = 1

/** Whether a URL the server handed back is on the configured CDF origin (relative URLs are). */
const isSameOrigin = (url: string, config: { readonly origin: string; readonly baseUrl: string }): boolean => {
  try {
    return new URL(url, `${config.baseUrl}/`).origin === config.origin
  } catch {
    return true
  }
}

/** A functions service over a CDF client. */
export const make: Effect.Effect<Functions.Service, never, CdfClient> = Effect.gen(function*() {
  const client = yield* CdfClient

  const getFunction = (id: Ids.FunctionId) =>
    client.execute({
      operation: "cdf.Functions.retrieve",
      method: "GET",
      path: path`/functions/${id}`,
      safety: "safe",
      schema: CogniteFunction.CogniteFunction
    })

  const create = Effect.fn("Functions.create")(function*(write: CogniteFunction.FunctionWrite) {
    const item = yield* encodeWrite(write)
    const response = yield* client.execute({
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
    const response = yield* client.execute({
      operation: "cdf.Functions.list",
      method: "POST",
      path: path`/functions/list`,
      safety: "safe",
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
        client.execute({
          operation: "cdf.Functions.delete",
          method: "POST",
          path: path`/functions/delete`,
          safety: "unsafe",
          body: { items: chunk, ignoreUnknownIds },
          schema: Items.EmptyResponse
        }))
    }
  )

  const limits = (yield* cachedLimits(client)).pipe(Effect.withSpan("Functions.limits"))

  const status = client.execute({
    operation: "cdf.Functions.status",
    method: "GET",
    path: path`/functions/status`,
    safety: "safe",
    schema: FunctionsLimits.FunctionsStatus
  }).pipe(Effect.withSpan("Functions.status"))

  const activate = client.execute({
    operation: "cdf.Functions.activate",
    method: "POST",
    path: path`/functions/status`,
    safety: "safe",
    schema: FunctionsLimits.FunctionsStatus
  }).pipe(Effect.withSpan("Functions.activate"))

  // ----- deploy ------------------------------------------------------------------------------------------

  const upload = Effect.fnUntraced(function*(
    options: DeployOptions,
    externalId: Ids.ExternalId | undefined,
    bytes: Uint8Array
  ) {
    const fileCreate = yield* decodeInput(Files.FileCreate, "file")(definedOnly({
      name: `${options.name.replace(/\//g, "-")}.zip`,
      externalId,
      dataSetId: options.dataSetId
    }))
    const ticket = yield* client.execute({
      operation: "cdf.Files.create",
      method: "POST",
      path: path`/files`,
      query: { overwrite: externalId !== undefined },
      safety: "unsafe",
      body: yield* encodeFileCreate(fileCreate),
      schema: Files.FileUploadTicket
    })
    // The same bytes to the same URL twice leave the same file: the PUT is safe to retry.
    yield* client.executeRaw({
      operation: "cdf.Files.upload",
      method: "PUT",
      url: ticket.uploadUrl,
      // a signed URL on a storage host gets the bytes and no credential; the CDF origin gets the usual request
      anonymous: !isSameOrigin(ticket.uploadUrl, client.config),
      safety: "safe",
      bytes: { data: bytes, contentType: "application/zip" }
    })
    return ticket.id
  }, (effect) => Effect.withSpan(effect, "Functions.deploy.upload"))

  const awaitUploaded = Effect.fnUntraced(function*(fileId: Ids.FileId) {
    const start = yield* Clock.currentTimeMillis
    const limit = Duration.toMillis(UPLOAD_WAIT)
    let delay = 250
    while (true) {
      const response = yield* client.execute({
        operation: "cdf.Files.retrieve",
        method: "POST",
        path: path`/files/byids`,
        safety: "safe",
        body: { items: [{ id: fileId }] },
        schema: FileItems
      })
      if (response.items[0]?.uploaded === true) return
      const elapsed = (yield* Clock.currentTimeMillis) - start
      if (elapsed >= limit) {
        return yield* Effect.fail(
          new TransportError({
            reason: "Timeout",
            request: new RequestDescription({ method: "POST", path: "/files/byids" }),
            description: `file ${fileId} was not reported uploaded within ${Math.round(limit / 1000)} s`
          })
        )
      }
      yield* Effect.sleep(Duration.millis(Math.min(delay, limit - elapsed)))
      delay = Math.min(delay * 2, 5_000)
    }
  }, (effect) => Effect.withSpan(effect, "Functions.deploy.awaitUploaded"))

  const awaitReady = Effect.fnUntraced(function*(
    created: CogniteFunction.CogniteFunction,
    waitTimeout: Duration.Duration,
    pollInterval: Duration.Duration,
    progress: (event: DeployProgress) => Effect.Effect<void>
  ) {
    const start = yield* Clock.currentTimeMillis
    const limit = Duration.toMillis(waitTimeout)
    const maxDelay = Duration.toMillis(pollInterval)
    let delay = Math.min(500, maxDelay)
    let current = created
    while (true) {
      if (current.status === "Ready") return current
      if (current.status === "Failed") {
        return yield* Effect.fail(
          new DeployFailed({
            functionId: current.id,
            reason: current.error?.message ?? "the deployment failed without a message",
            ...(current.error?.trace === undefined ? {} : { trace: current.error.trace })
          })
        )
      }
      const elapsed = (yield* Clock.currentTimeMillis) - start
      if (elapsed >= limit) {
        return yield* Effect.fail(
          new DeployFailed({
            functionId: current.id,
            reason: `not Ready after ${
              Math.round(limit / 1000)
            } s (status ${current.status}); it may still become Ready`
          })
        )
      }
      yield* Effect.sleep(Duration.millis(Math.min(delay, limit - elapsed)))
      delay = Math.min(delay * 2, maxDelay)
      const next = yield* getFunction(current.id)
      if (next.status !== current.status) yield* progress({ stage: "status", functionId: next.id, status: next.status })
      current = next
    }
  }, (effect) => Effect.withSpan(effect, "Functions.deploy.awaitReady"))

  const deploy = Effect.fn("Functions.deploy")(function*(options: DeployOptions) {
    const progress = options.onProgress ?? (() => Effect.void)
    const secretValues: Record<string, string> = {}
    for (const [key, value] of Object.entries(options.secrets ?? {})) {
      secretValues[key] = Redacted.isRedacted(value) ? Redacted.value(value) : value
    }
    const functionPath = options.functionPath ?? "handler.py"
    // Everything the create will carry is checked now, with a placeholder file id, before any upload.
    const candidate = yield* decodeWrite(definedOnly({
      name: options.name,
      fileId: PLACEHOLDER_FILE_ID,
      externalId: options.externalId,
      description: options.description,
      owner: options.owner,
      functionPath,
      secrets: options.secrets === undefined ? undefined : secretValues,
      envVars: options.envVars,
      cpu: options.cpu,
      memory: options.memory,
      runtime: options.runtime,
      metadata: options.metadata,
      indexUrl: options.indexUrl,
      extraIndexUrls: options.extraIndexUrls
    })).pipe(Effect.mapError((error) => Scrub.error(error, Object.values(secretValues))))
    if (options.dataSetId !== undefined && !(Number.isSafeInteger(options.dataSetId) && options.dataSetId > 0)) {
      return yield* new InvalidInput({ subject: "dataSetId", issue: "a data set id is a positive integer" })
    }
    const waitTimeout = yield* durationInput("waitTimeout", options.waitTimeout, DEFAULT_WAIT_TIMEOUT)
    const pollInterval = yield* durationInput("pollInterval", options.pollInterval, DEFAULT_POLL_INTERVAL)

    const files = options.source.folder !== undefined
      ? yield* Zip.fromFolder(options.source.folder)
      : options.source.files !== undefined
      ? yield* Zip.fromFiles(options.source.files)
      : yield* new InvalidInput({ subject: "source", issue: "give a folder or files" })
    const problem = Zip.entryProblem(files, functionPath)
    if (problem !== undefined) return yield* new InvalidInput({ subject: "source", issue: problem })
    const bytes = yield* Zip.zip(files)
    yield* progress({ stage: "zipped", files: files.size, bytes: bytes.length })

    // The zip of an existing function with this external id would be overwritten before the create is refused.
    if (candidate.externalId !== undefined) {
      const existing = yield* functionsByIds(client, [{ externalId: candidate.externalId }], true)
      if (existing.length > 0) {
        return yield* new Conflict({
          status: 409,
          message: `A function with external id "${candidate.externalId}" already exists (id ${
            existing[0].id
          }): delete it first or use another external id`,
          request: new RequestDescription({ method: "POST", path: "/functions" }),
          duplicated: [new ErrorEnvelope.ItemReference({ externalId: candidate.externalId })]
        })
      }
    }

    const fileId = yield* upload(options, candidate.externalId, bytes)
    yield* awaitUploaded(fileId)
    yield* progress({ stage: "uploaded", fileId })

    const created = yield* create(CogniteFunction.FunctionWrite.make({ ...candidate, fileId }))
    yield* Effect.annotateCurrentSpan("cdf.function.id", created.id)
    yield* progress({ stage: "created", functionId: created.id })
    yield* progress({ stage: "status", functionId: created.id, status: created.status })
    return yield* awaitReady(created, waitTimeout, pollInterval, progress)
  })

  return Functions.of({
    create,
    deploy,
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
