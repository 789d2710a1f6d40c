/** The body of `Functions.deploy`: check, zip, upload, create, and wait until `Ready` with `Polling.until`. */
import { CogniteFunction, ErrorEnvelope, Files, Items, Scrub } from "@effect-cdf/core"
import type { Ids } from "@effect-cdf/core"
import { Conflict, DeployFailed, InvalidInput, RequestDescription, TransportError } from "@effect-cdf/core/Errors"
import type { CdfClient } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import { Clock, Duration, Effect, Option, Redacted, Schedule } from "effect"
import type { Deployed, DeployOptions, DeployProgress } from "../Functions.js"
import * as Polling from "../Polling.js"
import type { WriteError } from "../ServiceError.js"
import { functionsByIds, read, write } from "./api.js"
import { definedOnly } from "./defined.js"
import { decodeInput, encode } from "./encode.js"
import {
  contentHash,
  HASH_KEY,
  isUnchanged,
  PLACEHOLDER_HASH,
  replace,
  type Replacing,
  SECRETS_HASH_KEY,
  secretsHash
} from "./redeploy.js"
import * as Zip from "./zip.js"

/** The user's metadata with the deploy's hashes added. */
const withHashes = (
  metadata: Readonly<Record<string, string>> | undefined,
  hash: string,
  secrets: string | undefined
): Record<string, string> => ({
  ...metadata,
  [HASH_KEY]: hash,
  ...(secrets === undefined ? {} : { [SECRETS_HASH_KEY]: secrets })
})

/** The default `waitTimeout` of `deploy`. */
export const DEFAULT_WAIT_TIMEOUT: Duration.Duration = Duration.minutes(15)

/** The default `pollInterval` of `deploy`. */
export const DEFAULT_POLL_INTERVAL: Duration.Duration = Duration.seconds(10)

/** How long `deploy` waits for the Files API to report the upload. */
export const UPLOAD_WAIT: Duration.Duration = Duration.seconds(60)

/** The status polls of a deploy: 0.5 s, 1 s, 2 s, ... doubling up to `pollInterval`. */
export const readySchedule = (pollInterval: Duration.DurationInput): Schedule.Schedule<unknown> => {
  const max = Duration.decode(pollInterval)
  return Schedule.exponential(Duration.min(Duration.millis(500), max), 2).pipe(Schedule.union(Schedule.spaced(max)))
}

/** The polls of an upload: 250 ms, 500 ms, ... doubling up to 5 s. */
const uploadSchedule = Schedule.exponential("250 millis", 2).pipe(Schedule.union(Schedule.spaced("5 seconds")))

const FileItems = Items.Items(Files.FileMetadata)
const decodeWrite = decodeInput(CogniteFunction.FunctionWrite, "function")
const encodeFileCreate = encode(Files.FileCreate, "file")
const PLACEHOLDER_FILE_ID = 1

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

/** Whether a URL the server handed back is on the configured CDF origin (relative URLs are). */
const isSameOrigin = (url: string, config: { readonly origin: string; readonly baseUrl: string }): boolean => {
  try {
    return new URL(url, `${config.baseUrl}/`).origin === config.origin
  } catch {
    return true
  }
}

/** `deploy` over a client, creating the function with `create`. */
export const makeDeploy = (
  client: CdfClient.Service,
  create: (write: CogniteFunction.FunctionWrite) => Effect.Effect<CogniteFunction.CogniteFunction, WriteError>,
  io: Pick<Replacing, "remove" | "schedules">
) => {
  const getFunction = (id: Ids.FunctionId) =>
    read(client, {
      operation: "cdf.Functions.retrieve",
      method: "GET",
      path: path`/functions/${id}`,
      safety: "safe",
      schema: CogniteFunction.CogniteFunction
    })

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
    const ticket = yield* write(client, {
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
    }).pipe(Effect.catchTag("CallOutcomeUnknown", Effect.die))
    return ticket.id
  }, (effect) => Effect.withSpan(effect, "Functions.deploy.upload"))

  const awaitUploaded = Effect.fnUntraced(function*(fileId: Ids.FileId) {
    const limit = Duration.toMillis(UPLOAD_WAIT)
    const ended = yield* Polling.until({
      poll: read(client, {
        operation: "cdf.Files.retrieve",
        method: "POST",
        path: path`/files/byids`,
        safety: "safe",
        body: { items: [{ id: fileId }] },
        schema: FileItems
      }),
      isDone: (response) => response.items[0]?.uploaded === true,
      deadline: (yield* Clock.currentTimeMillis) + limit,
      schedule: uploadSchedule
    })
    if (ended._tag === "DeadlineReached") {
      return yield* new TransportError({
        reason: "Timeout",
        request: new RequestDescription({ method: "POST", path: "/files/byids" }),
        description: `file ${fileId} was not reported uploaded within ${Math.round(limit / 1000)} s`
      })
    }
  }, (effect) => Effect.withSpan(effect, "Functions.deploy.awaitUploaded"))

  const awaitReady = Effect.fnUntraced(function*(
    created: CogniteFunction.CogniteFunction,
    waitTimeout: Duration.Duration,
    schedule: Schedule.Schedule<unknown, unknown>,
    progress: (event: DeployProgress) => Effect.Effect<void>
  ) {
    const limit = Duration.toMillis(waitTimeout)
    let status = created.status
    const ended = yield* Polling.until({
      poll: getFunction(created.id),
      isDone: (fn) => fn.status === "Ready" || fn.status === "Failed",
      deadline: (yield* Clock.currentTimeMillis) + limit,
      schedule,
      initial: Option.some(created),
      onValue: (fn) => {
        if (fn.status === status) return Effect.void
        status = fn.status
        return progress({ stage: "status", functionId: fn.id, status: fn.status })
      }
    })
    if (ended._tag === "Done" && ended.value.status === "Ready") return ended.value
    if (ended._tag === "Done") {
      const failed = ended.value
      return yield* new DeployFailed({
        functionId: failed.id,
        reason: failed.error?.message ?? "the deployment failed without a message",
        ...(failed.error?.trace === undefined ? {} : { trace: failed.error.trace })
      })
    }
    return yield* new DeployFailed({
      functionId: created.id,
      reason: `not Ready after ${Math.round(limit / 1000)} s (status ${status}); it may still become Ready`
    })
  }, (effect) => Effect.withSpan(effect, "Functions.deploy.awaitReady"))

  return Effect.fn("Functions.deploy")(function*(options: DeployOptions) {
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
      // checked with the hashes' room taken, so the limits of metadata hold once they are added
      metadata: withHashes(
        options.metadata,
        PLACEHOLDER_HASH,
        options.secrets === undefined ? undefined : PLACEHOLDER_HASH
      ),
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
    // The entry point is the server's to judge: a bundle it cannot run fails its build, and the wait says why.
    if (files.size === 0) return yield* new InvalidInput({ subject: "source", issue: "the source has no files" })
    const bytes = yield* Zip.zip(files)
    yield* progress({ stage: "zipped", files: files.size, bytes: bytes.length })
    const { metadata: _placeholders, ...settings } = candidate
    const hash = contentHash(files, { ...settings, metadata: options.metadata ?? {}, dataSetId: options.dataSetId })
    const metadata = withHashes(
      options.metadata,
      hash,
      options.secrets === undefined ? undefined : secretsHash(secretValues, hash)
    )
    const ready = (created: CogniteFunction.CogniteFunction) =>
      awaitReady(created, waitTimeout, options.schedule ?? readySchedule(pollInterval), progress)

    // The zip of an existing function with this external id would be overwritten before the create is refused.
    const existing = candidate.externalId === undefined
      ? []
      : yield* functionsByIds(client, [{ externalId: candidate.externalId }], true)
    if (existing.length > 0 && isUnchanged(existing[0], metadata)) {
      yield* progress({ stage: "unchanged", functionId: existing[0].id })
      const current = existing[0].status === "Ready" ? existing[0] : yield* ready(existing[0])
      return { function: current, outcome: "unchanged", hash, schedules: [] } satisfies Deployed
    }
    if (existing.length > 0 && options.onExists !== "replace") {
      return yield* new Conflict({
        status: 409,
        message:
          `A function with external id "${candidate.externalId}" already exists (id ${
            existing[0].id
          }) with other content or settings: pass onExists: "replace" (cdf-fn: --replace) to replace it, or use ` +
          "another external id",
        request: new RequestDescription({ method: "POST", path: "/functions" }),
        duplicated: [new ErrorEnvelope.ItemReference({ externalId: candidate.externalId ?? "" })]
      })
    }

    // a replacement's zip gets no external id: the file of the function in place is not overwritten
    const fileId = yield* upload(options, existing.length > 0 ? undefined : candidate.externalId, bytes)
    yield* awaitUploaded(fileId)
    yield* progress({ stage: "uploaded", fileId })
    const write = CogniteFunction.FunctionWrite.make({ ...candidate, fileId, metadata })

    if (existing.length > 0) {
      yield* progress({ stage: "replacing", functionId: existing[0].id })
      const replaced = yield* replace(existing[0], write, { ...io, create, awaitReady: ready })
      yield* Effect.annotateCurrentSpan("cdf.function.id", replaced.function.id)
      return { ...replaced, outcome: "replaced", hash } satisfies Deployed
    }
    const created = yield* create(write)
    yield* Effect.annotateCurrentSpan("cdf.function.id", created.id)
    yield* progress({ stage: "created", functionId: created.id })
    yield* progress({ stage: "status", functionId: created.id, status: created.status })
    return { function: yield* ready(created), outcome: "created", hash, schedules: [] } satisfies Deployed
  })
}
