/**
 * The REST API of the emulated project: Functions, calls, schedules, sessions, the Files endpoints that
 * deploying needs, and Function Apps, on an `HttpRouter`. Request bodies are decoded with the schemas of
 * `@effect-cdf/core` and responses encoded with them.
 *
 * @since 0.1.0
 */
import {
  CogniteFunction,
  Files,
  FunctionApp,
  FunctionCall,
  FunctionSchedule,
  FunctionsLimits,
  Ids,
  Items,
  Session
} from "@effect-cdf/core"
import { HttpRouter, HttpServerRequest } from "@effect/platform"
import { Deferred, Effect, Redacted, Schema } from "effect"
import { Executor, IN_PROCESS_PREFIX } from "./Executor.js"
import { describeCron } from "./internal/cronText.js"
import {
  ApiFailure,
  badRequest,
  decodeBody,
  decodeValue,
  duplicated,
  encoded,
  forbidden,
  intParam,
  type ItemRef,
  jsonResponse,
  jsonSize,
  missing,
  RawBody
} from "./internal/http.js"
import { randomToken } from "./internal/ids.js"
import type { Limits } from "./Limits.js"
import type { PreparedHandler } from "./Runtime.js"
import { Scheduler } from "./Scheduler.js"
import { State, type StoredCall, type StoredFunction, type StoredSession } from "./State.js"
import { Tokens } from "./Tokens.js"

/** A capability (ACL and action) an endpoint requires. Disabled ones answer 403. */
export type Capability =
  | "functionsAcl:READ"
  | "functionsAcl:WRITE"
  | "functionsAcl:RUN"
  | "sessionsAcl:CREATE"
  | "sessionsAcl:LIST"
  | "sessionsAcl:DELETE"
  | "filesAcl:READ"
  | "filesAcl:WRITE"

/** What the routes need beyond the services. */
export interface RoutesOptions {
  readonly project: string
  readonly limits: Limits
  /** How long a nonce can be bound, in seconds. Default 60. */
  readonly nonceTtlSeconds: number
  /** How long a requested activation takes, in milliseconds. */
  readonly activationDelayMillis: number
  readonly disabledCapabilities: ReadonlySet<Capability>
  /** The origin clients reach the emulator at, e.g. `http://127.0.0.1:4000`. */
  readonly baseUrl: () => string
  /** Persists uploaded bytes (a no-op without a data directory). */
  readonly saveBlob: (fileId: number, bytes: Uint8Array) => Effect.Effect<void>
  /** Removes persisted bytes. */
  readonly deleteBlob: (fileId: number) => Effect.Effect<void>
  /** Releases a deleted function's prepared handler (its warm workers and files). */
  readonly release: (handler: PreparedHandler) => Effect.Effect<void>
}

/** The path prefix of the project API. */
export const PROJECT_PREFIX = "/api/v1/projects/:project"

// ---------------------------------------------------------------------------------------------------------
// request schemas the core contract does not spell the emulator's way
// ---------------------------------------------------------------------------------------------------------

/**
 * The emulator also runs JavaScript handlers and in-process ones, so its `functionPath` accepts `.js`,
 * `.mjs`, `.cjs` and `inprocess:NAME` besides CDF's `.py`.
 */
const EmulatorFunctionPath = Schema.String.pipe(
  Schema.minLength(1),
  Schema.maxLength(500, { message: () => "functionPath is at most 500 characters" }),
  Schema.filter((path) => {
    if (path.startsWith(IN_PROCESS_PREFIX)) return path.length > IN_PROCESS_PREFIX.length || "inprocess: needs a name"
    if (path.includes("\\")) return "functionPath is a POSIX path: use / not \\"
    if (path.startsWith("/")) return "functionPath is relative to the root of the zip"
    if (path.split("/").some((part) => part === ".." || part === "")) return "functionPath has an empty or .. segment"
    return /\.(py|js|mjs|cjs)$/.test(path) || "functionPath names a .py (or, in the emulator, .js) file"
  })
)

const FunctionCreate = Schema.Struct({
  ...CogniteFunction.FunctionWrite.fields,
  functionPath: Schema.optionalWith(EmulatorFunctionPath, { exact: true })
})
const FunctionCreateRequest = Items.ItemsRequest(FunctionCreate, Items.ItemLimits.create)
const ScheduleCreateRequest = Items.ItemsRequest(FunctionSchedule.FunctionScheduleWrite, Items.ItemLimits.create)
const FunctionList = Items.Items(CogniteFunction.CogniteFunction)
const CallList = Items.ItemsWithCursor(FunctionCall.FunctionCall)
const CallItems = Items.Items(FunctionCall.FunctionCall)
const ScheduleList = Items.Items(FunctionSchedule.FunctionSchedule)
const FileList = Items.Items(Files.FileMetadata)
const FileByIdsRequest = Items.ByIdsRequest(Ids.Identifier, 1000)
const SessionIdsRequest = Items.ItemsRequest(Ids.ById, 1000)
const SessionList = Schema.Struct({
  items: Schema.Array(Session.Session),
  nextCursor: Schema.optionalWith(Schema.String, { exact: true })
})
const RawScheduleListRequest = Schema.Struct({
  filter: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Unknown }), { exact: true }),
  limit: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { exact: true })
})
const CallsCursor = Schema.parseJson(Schema.Tuple(Schema.Number, Schema.Number))

// ---------------------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------------------

const param = (name: string) => Effect.map(HttpRouter.params, (params) => params[name])

const idParam = (name: string) => Effect.flatMap(param(name), (value) => intParam(value, name))

const query = Effect.map(
  HttpServerRequest.HttpServerRequest,
  (request) => new URL(request.url, "http://x").searchParams
)

const limitParam = Effect.flatMap(query, (params) => {
  const raw = params.get("limit")
  if (raw === null) return Effect.succeed(undefined)
  return intParam(raw, "limit")
})

const refOf = (identifier: Ids.Identifier): ItemRef =>
  "id" in identifier ? { id: identifier.id } : { externalId: identifier.externalId }

const ONE_HOUR = 3_600_000

const encodeCursor = (startTime: number, id: number) =>
  Buffer.from(JSON.stringify([startTime, id]), "utf8").toString("base64url")

const decodeCursor = (cursor: string) =>
  Schema.decodeUnknown(CallsCursor)(Buffer.from(cursor, "base64url").toString("utf8")).pipe(
    Effect.mapError(() => badRequest("Invalid cursor"))
  )

/** Newest first; ties broken by id so a cursor is a strict position. */
const callOrder = (a: FunctionCall.FunctionCall, b: FunctionCall.FunctionCall) =>
  b.startTime - a.startTime || b.id - a.id

const inRange = (value: number | undefined, range: typeof CogniteFunction.TimeRange.Type | undefined) =>
  range === undefined ||
  (value !== undefined && (range.min === undefined || value >= range.min) &&
    (range.max === undefined || value <= range.max))

const runtimeVersion = (runtime: string, path: string) =>
  path.startsWith(IN_PROCESS_PREFIX)
    ? "In-process (emulator)"
    : /\.(js|mjs|cjs)$/.test(path)
    ? `Node.js ${process.versions.node} (emulator)`
    : `Python ${runtime.slice(2, 3)}.${runtime.slice(3)} (emulator)`

// ---------------------------------------------------------------------------------------------------------
// the router
// ---------------------------------------------------------------------------------------------------------

/** Builds the router of the project API. */
export const make = (options: RoutesOptions) =>
  Effect.gen(function*() {
    const { now, store } = yield* State
    const executor = yield* Executor
    const scheduler = yield* Scheduler
    const tokens = yield* Tokens
    const limits = options.limits
    let activationRequestedAt = 0

    const requires = (capability: Capability) =>
      options.disabledCapabilities.has(capability)
        ? Effect.fail(forbidden(`This emulator was started without the ${capability} capability`))
        : Effect.void

    const activationStatus = Effect.map(now, (t): FunctionsLimits.ActivationStatus => {
      if (store.activation === "requested" && t >= activationRequestedAt + options.activationDelayMillis) {
        store.activation = "activated"
        store.touch()
      }
      return store.activation
    })

    const requireActivated = Effect.flatMap(activationStatus, (status) =>
      status === "activated"
        ? Effect.void
        : Effect.fail(
          forbidden(
            `Cognite Functions is ${status} for project ${options.project}: activate it with POST /functions/status`
          )
        ))

    const functionOr404 = (id: number) => {
      const stored = store.functions.get(id)
      return stored === undefined
        ? Effect.fail(new ApiFailure({ status: 404, message: `Function ${id} not found`, missing: [{ id }] }))
        : Effect.succeed(stored)
    }

    const callOr404 = (functionId: number, callId: number) => {
      const stored = store.calls.get(callId)
      return stored === undefined || stored.call.functionId !== functionId
        ? Effect.fail(
          new ApiFailure({
            status: 404,
            message: `Call ${callId} of function ${functionId} not found`,
            missing: [{ id: callId }]
          })
        )
        : Effect.succeed(stored)
    }

    const scheduleOr404 = (id: number) => {
      const stored = store.schedules.get(id)
      return stored === undefined
        ? Effect.fail(new ApiFailure({ status: 404, message: `Schedule ${id} not found`, missing: [{ id }] }))
        : Effect.succeed(stored)
    }

    const functionByIdentifier = (identifier: Ids.Identifier) =>
      "id" in identifier ? store.functions.get(identifier.id) : store.functionByExternalId(identifier.externalId)

    /**
     * Binds a nonce: it must exist, be unused and unexpired. It is marked used before anything else
     * happens (so two requests cannot both bind it); `release` undoes that when the request then fails.
     */
    const bindNonce = (nonce: string) =>
      Effect.gen(function*() {
        const t = yield* now
        let session: StoredSession | undefined
        for (const s of store.sessions.values()) {
          if (s.nonce === nonce) session = s
        }
        if (session === undefined) return yield* Effect.fail(badRequest("Invalid nonce: no session has this nonce"))
        if (session.nonceUsed) return yield* Effect.fail(badRequest("Invalid nonce: it has already been used"))
        if (session.status === "REVOKED") return yield* Effect.fail(badRequest("Invalid nonce: the session is revoked"))
        if (t >= session.nonceExpiresAt) return yield* Effect.fail(badRequest("Invalid nonce: it has expired"))
        const bound = session
        bound.nonceUsed = true
        bound.status = "ACTIVE"
        store.touch()
        return {
          session: bound,
          release: Effect.sync(() => {
            bound.nonceUsed = false
            bound.status = "READY"
          })
        }
      })

    const checkInput = (data: unknown) => {
      const size = jsonSize(data)
      return size > limits.maxInputBytes
        ? Effect.fail(
          new ApiFailure({
            status: 413,
            message: `The call's data is ${size} bytes, over the limit of ${limits.maxInputBytes} bytes`
          })
        )
        : Effect.void
    }

    /** Starts a call after binding its nonce; a failed start gives the nonce back. */
    const startCall = (stored: StoredFunction, data: Readonly<Record<string, unknown>>, nonce: string) =>
      Effect.gen(function*() {
        yield* checkInput(data)
        const { release } = yield* bindNonce(nonce)
        return yield* executor.start(stored.fn.id, data).pipe(Effect.tapError(() => release))
      })

    // ----- functions ---------------------------------------------------------------------------------

    const createFunction = Effect.gen(function*() {
      yield* requires("functionsAcl:WRITE")
      yield* requireActivated
      const body = yield* decodeBody(FunctionCreateRequest)
      const write = body.items[0]
      if (store.functions.size >= limits.maxFunctions) {
        return yield* Effect.fail(
          badRequest(`The project already has ${limits.maxFunctions} functions, the most it may have`)
        )
      }
      if (write.externalId !== undefined && store.functionByExternalId(write.externalId) !== undefined) {
        return yield* Effect.fail(duplicated([{ externalId: write.externalId }]))
      }
      const file = store.files.get(write.fileId)
      if (file === undefined) return yield* Effect.fail(badRequest(`File ${write.fileId} not found`))
      if (file.bytes === undefined) {
        return yield* Effect.fail(badRequest(`File ${write.fileId} has not been uploaded yet`))
      }
      const runtime = write.runtime ?? "py313"
      if (!limits.runtimes.includes(runtime)) {
        return yield* Effect.fail(
          badRequest(`Runtime ${runtime} is not available; the runtimes are ${limits.runtimes.join(", ")}`)
        )
      }
      const cpu = write.cpu ?? limits.cpuCores.default
      const memory = write.memory ?? limits.memoryGb.default
      if (cpu < limits.cpuCores.min || cpu > limits.cpuCores.max) {
        return yield* Effect.fail(badRequest(`cpu must be in ${limits.cpuCores.min}..${limits.cpuCores.max}`))
      }
      if (memory < limits.memoryGb.min || memory > limits.memoryGb.max) {
        return yield* Effect.fail(badRequest(`memory must be in ${limits.memoryGb.min}..${limits.memoryGb.max}`))
      }
      const t = yield* now
      const id = store.newId(store.functions)
      const functionPath = write.functionPath ?? "handler.py"
      const secrets: Record<string, string> = {}
      for (const [k, v] of Object.entries(write.secrets ?? {})) secrets[k] = Redacted.value(v)
      const fn = new CogniteFunction.CogniteFunction({
        id: Ids.FunctionId.make(id),
        createdTime: Ids.EpochMillis.make(t),
        status: "Queued",
        name: write.name,
        fileId: write.fileId,
        functionPath,
        cpu,
        memory,
        runtime,
        runtimeVersion: runtimeVersion(runtime, functionPath),
        ...(write.externalId === undefined ? {} : { externalId: write.externalId }),
        ...(write.owner === undefined ? {} : { owner: write.owner }),
        ...(write.description === undefined ? {} : { description: write.description }),
        ...(write.metadata === undefined ? {} : { metadata: write.metadata }),
        ...(write.envVars === undefined ? {} : { envVars: write.envVars }),
        ...(write.secrets === undefined ? {} : {
          secrets: Object.fromEntries(Object.keys(secrets).map((k) => [k, "***"]))
        })
      })
      store.functions.set(id, { fn, secrets, handler: undefined })
      store.touch()
      yield* executor.deploy(id)
      return encoded(FunctionList, { items: [fn] }, 201)
    })

    const listFunctions = (filter: CogniteFunction.FunctionFilter | undefined, limit: number | undefined) =>
      Effect.map(requires("functionsAcl:READ"), () => {
        const items = [...store.functions.values()]
          .map((f) => f.fn)
          .filter((fn) =>
            filter === undefined ||
            ((filter.name === undefined || fn.name === filter.name) &&
              (filter.owner === undefined || fn.owner === filter.owner) &&
              (filter.fileId === undefined || fn.fileId === filter.fileId) &&
              (filter.status === undefined || fn.status === filter.status) &&
              (filter.externalIdPrefix === undefined || (fn.externalId ?? "").startsWith(filter.externalIdPrefix)) &&
              inRange(fn.createdTime, filter.createdTime) &&
              Object.entries(filter.metadata ?? {}).every(([k, v]) => fn.metadata?.[k] === v))
          )
          .sort((a, b) => a.createdTime - b.createdTime || a.id - b.id)
          .slice(0, limit ?? 100)
        return encoded(FunctionList, { items })
      })

    const resolveFunctions = (items: ReadonlyArray<Ids.Identifier>, ignoreUnknown: boolean) => {
      const found: Array<StoredFunction> = []
      const unknown: Array<ItemRef> = []
      for (const identifier of items) {
        const stored = functionByIdentifier(identifier)
        if (stored === undefined) unknown.push(refOf(identifier))
        else if (!found.includes(stored)) found.push(stored)
      }
      return unknown.length > 0 && !ignoreUnknown
        ? Effect.fail(missing(unknown, "functions"))
        : Effect.succeed(found)
    }

    const deleteFunction = (stored: StoredFunction) =>
      Effect.gen(function*() {
        const id = stored.fn.id
        store.functions.delete(id)
        if (stored.handler !== undefined) yield* options.release(stored.handler)
        for (const [callId, c] of store.calls) if (c.call.functionId === id) store.calls.delete(callId)
        for (const [scheduleId, s] of store.schedules) {
          if (s.schedule.functionId === id) {
            store.schedules.delete(scheduleId)
            yield* scheduler.stop(scheduleId)
          }
        }
        store.touch()
      })

    // ----- calls -------------------------------------------------------------------------------------

    const listCalls = (
      functionId: number,
      filter: FunctionCall.FunctionCallFilter | undefined,
      limit: number | undefined,
      cursor: string | undefined
    ) =>
      Effect.gen(function*() {
        yield* requires("functionsAcl:READ")
        yield* functionOr404(functionId)
        const after = cursor === undefined ? undefined : yield* decodeCursor(cursor)
        const all = [...store.calls.values()]
          .map((c) => c.call)
          .filter((call) =>
            call.functionId === functionId &&
            (filter === undefined ||
              ((filter.status === undefined || call.status === filter.status) &&
                (filter.scheduleId === undefined || call.scheduleId === filter.scheduleId) &&
                inRange(call.startTime, filter.startTime) &&
                inRange(call.endTime, filter.endTime)))
          )
          .sort(callOrder)
          .filter((call) =>
            after === undefined || call.startTime < after[0] || (call.startTime === after[0] && call.id < after[1])
          )
        const n = limit ?? 100
        const items = all.slice(0, n)
        const last = items[items.length - 1]
        return encoded(CallList, {
          items,
          ...(all.length > n && last !== undefined ? { nextCursor: encodeCursor(last.startTime, last.id) } : {})
        })
      })

    const callResponseBody = (stored: StoredCall) => ({
      callId: stored.call.id,
      functionId: stored.call.functionId,
      ...(stored.response === undefined ? {} : { response: stored.response.value })
    })

    // ----- schedules ---------------------------------------------------------------------------------

    const listSchedules = (filter: FunctionSchedule.FunctionScheduleFilter | undefined, limit: number | undefined) =>
      Effect.map(requires("functionsAcl:READ"), () => {
        const xidFunction = filter?.functionExternalId === undefined
          ? undefined
          : store.functionByExternalId(filter.functionExternalId)
        const items = [...store.schedules.values()]
          .map((s) => s.schedule)
          .filter((s) =>
            filter === undefined ||
            ((filter.name === undefined || s.name === filter.name) &&
              (filter.functionId === undefined || s.functionId === filter.functionId) &&
              (filter.functionExternalId === undefined ||
                (xidFunction !== undefined && s.functionId === xidFunction.fn.id)) &&
              (filter.cronExpression === undefined || s.cronExpression === filter.cronExpression) &&
              inRange(s.createdTime, filter.createdTime))
          )
          .sort((a, b) => a.createdTime - b.createdTime || a.id - b.id)
          .slice(0, limit ?? 100)
        return encoded(ScheduleList, { items })
      })

    const createSchedule = Effect.gen(function*() {
      yield* requires("functionsAcl:WRITE")
      yield* requireActivated
      const body = yield* decodeBody(ScheduleCreateRequest)
      const write = body.items[0]
      const stored = write.functionId !== undefined
        ? store.functions.get(write.functionId)
        : write.functionExternalId === undefined
        ? undefined
        : store.functionByExternalId(write.functionExternalId)
      if (stored === undefined) {
        const ref: ItemRef = write.functionId !== undefined
          ? { id: write.functionId }
          : { externalId: write.functionExternalId ?? "" }
        return yield* Effect.fail(missing([ref], "functions"))
      }
      if (write.nonce === undefined) {
        return yield* Effect.fail(
          badRequest("A schedule needs a nonce: create a session with POST /sessions and pass its nonce")
        )
      }
      if (store.schedules.size >= limits.maxSchedulesPerProject) {
        return yield* Effect.fail(
          badRequest(`The project already has ${limits.maxSchedulesPerProject} schedules, the most it may have`)
        )
      }
      let perFunction = 0
      for (const s of store.schedules.values()) if (s.schedule.functionId === stored.fn.id) perFunction++
      if (perFunction >= limits.maxSchedulesPerFunction) {
        return yield* Effect.fail(
          badRequest(`Function ${stored.fn.id} already has ${limits.maxSchedulesPerFunction} schedules`)
        )
      }
      if (write.data !== undefined) yield* checkInput(write.data)
      const { session } = yield* bindNonce(Redacted.value(write.nonce))
      const t = yield* now
      const id = store.newId(store.schedules)
      const schedule = new FunctionSchedule.FunctionSchedule({
        id: Ids.ScheduleId.make(id),
        name: write.name,
        createdTime: Ids.EpochMillis.make(t),
        cronExpression: write.cronExpression,
        when: describeCron(write.cronExpression),
        functionId: stored.fn.id,
        sessionId: Ids.SessionId.make(session.id),
        ...(write.description === undefined ? {} : { description: write.description }),
        ...(write.functionExternalId === undefined ? {} : { functionExternalId: write.functionExternalId })
      })
      store.schedules.set(id, { schedule, data: write.data })
      store.touch()
      yield* scheduler.start(id)
      return encoded(ScheduleList, { items: [schedule] }, 201)
    })

    const scheduleFilter = (raw: Readonly<Record<string, unknown>> | undefined) =>
      Effect.gen(function*() {
        if (raw === undefined) return undefined
        // The spec spells these `FunctionId` / `FunctionExternalId`; the Python SDK sends camelCase.
        const { FunctionExternalId, FunctionId, ...rest } = raw
        const merged: Record<string, unknown> = { ...rest }
        for (
          const [spec, camel, value] of [
            ["FunctionId", "functionId", FunctionId],
            ["FunctionExternalId", "functionExternalId", FunctionExternalId]
          ] as const
        ) {
          if (value === undefined) continue
          if (merged[camel] !== undefined && merged[camel] !== value) {
            return yield* Effect.fail(badRequest(`filter.${spec} and filter.${camel} disagree`))
          }
          merged[camel] = value
        }
        return yield* decodeValue(FunctionSchedule.FunctionScheduleFilter, merged, "filter")
      })

    // ----- sessions ----------------------------------------------------------------------------------

    const sessionView = (s: StoredSession) =>
      new Session.Session({
        id: Ids.SessionId.make(s.id),
        type: s.type,
        status: s.status,
        creationTime: Ids.EpochMillis.make(s.createdTime),
        expirationTime: Ids.EpochMillis.make(s.createdTime + ONE_HOUR),
        ...(s.clientId === undefined ? {} : { clientId: s.clientId })
      })

    const createSession = Effect.gen(function*() {
      yield* requires("sessionsAcl:CREATE")
      const body = yield* decodeBody(Session.CreateSessionRequest)
      const request = body.items[0]
      const t = yield* now
      let type: StoredSession["type"]
      let clientId: string | undefined
      if ("clientId" in request) {
        if (request.clientId !== tokens.clientId) {
          return yield* Effect.fail(badRequest("Could not create a session: unknown client credentials"))
        }
        type = "CLIENT_CREDENTIALS"
        clientId = request.clientId
      } else if ("tokenExchange" in request) {
        type = "TOKEN_EXCHANGE"
      } else {
        type = "ONESHOT_TOKEN_EXCHANGE"
      }
      const session: StoredSession = {
        id: store.newId(store.sessions),
        type,
        status: "READY",
        nonce: randomToken(),
        nonceExpiresAt: t + options.nonceTtlSeconds * 1000,
        nonceUsed: false,
        createdTime: t,
        clientId
      }
      store.sessions.set(session.id, session)
      store.touch()
      return jsonResponse({
        items: [{
          id: session.id,
          status: session.status,
          nonce: session.nonce,
          type: session.type,
          ...(clientId === undefined ? {} : { clientId })
        }]
      })
    })

    // ----- files -------------------------------------------------------------------------------------

    const fileOr404 = (id: number) => {
      const stored = store.files.get(id)
      return stored === undefined
        ? Effect.fail(new ApiFailure({ status: 404, message: `File ${id} not found`, missing: [{ id }] }))
        : Effect.succeed(stored)
    }

    const uploadUrl = (id: number, token: string) =>
      `${options.baseUrl()}/api/v1/projects/${encodeURIComponent(options.project)}/files/upload/${id}?token=${token}`

    const createFile = Effect.gen(function*() {
      yield* requires("filesAcl:WRITE")
      const create = yield* decodeBody(Files.FileCreate)
      const overwrite = (yield* query).get("overwrite") === "true"
      const t = Ids.EpochMillis.make(yield* now)
      const existing = create.externalId === undefined ? undefined : store.fileByExternalId(create.externalId)
      if (existing !== undefined && !overwrite) {
        return yield* Effect.fail(duplicated([{ externalId: existing.meta.externalId ?? "" }]))
      }
      const id = existing?.meta.id ?? Ids.FileId.make(store.newId(store.files))
      const uploadToken = randomToken()
      const meta = new Files.FileMetadata({
        id,
        name: create.name,
        uploaded: existing?.meta.uploaded ?? false,
        createdTime: existing?.meta.createdTime ?? t,
        lastUpdatedTime: t,
        ...(create.externalId === undefined ? {} : { externalId: create.externalId }),
        ...(create.mimeType === undefined ? {} : { mimeType: create.mimeType }),
        ...(create.dataSetId === undefined ? {} : { dataSetId: create.dataSetId }),
        ...(existing?.meta.uploadedTime === undefined ? {} : { uploadedTime: existing.meta.uploadedTime })
      })
      // Overwriting keeps the old bytes until the new ones arrive, as the Files API does.
      store.files.set(id, { meta, uploadToken, bytes: existing?.bytes })
      store.touch()
      return encoded(
        Files.FileUploadTicket,
        new Files.FileUploadTicket({ ...meta, uploadUrl: uploadUrl(id, uploadToken) }),
        201
      )
    })

    const uploadFile = Effect.gen(function*() {
      const id = yield* idParam("fileId")
      const stored = yield* fileOr404(id)
      const token = (yield* query).get("token")
      if (token !== stored.uploadToken) {
        return yield* Effect.fail(forbidden("The upload URL's token is not valid for this file"))
      }
      const bytes = yield* RawBody
      const t = Ids.EpochMillis.make(yield* now)
      stored.bytes = bytes
      stored.meta = new Files.FileMetadata({ ...stored.meta, uploaded: true, uploadedTime: t, lastUpdatedTime: t })
      store.touch()
      yield* options.saveBlob(id, bytes)
      return jsonResponse({})
    })

    const resolveFiles = (items: ReadonlyArray<Ids.Identifier>, ignoreUnknown: boolean) => {
      const found: Array<Files.FileMetadata> = []
      const unknown: Array<ItemRef> = []
      for (const identifier of items) {
        const stored = "id" in identifier
          ? store.files.get(identifier.id)
          : store.fileByExternalId(identifier.externalId)
        if (stored === undefined) unknown.push(refOf(identifier))
        else found.push(stored.meta)
      }
      return unknown.length > 0 && !ignoreUnknown ? Effect.fail(missing(unknown, "files")) : Effect.succeed(found)
    }

    // ----- function apps -----------------------------------------------------------------------------

    const appOr404 = Effect.gen(function*() {
      const xid = (yield* param("externalId")) ?? ""
      const stored = store.functionByExternalId(xid)
      if (stored === undefined) {
        return yield* Effect.fail(
          new ApiFailure({ status: 404, message: `Function app ${xid} not found`, missing: [{ externalId: xid }] })
        )
      }
      return stored
    })

    const appResult = (stored: StoredCall) => {
      const call = stored.call
      return {
        callId: call.id,
        functionId: call.functionId,
        runtimeStatus: call.status,
        ...(call.status === "Completed" && stored.response !== undefined ? { response: stored.response.value } : {}),
        ...(call.error === undefined ? {} : {
          error: call.error.trace === undefined
            ? { message: call.error.message }
            : { message: call.error.message, trace: call.error.trace }
        })
      }
    }

    const appCall = Effect.gen(function*() {
      yield* requires("functionsAcl:WRITE")
      yield* requireActivated
      const stored = yield* appOr404
      const request = yield* HttpServerRequest.HttpServerRequest
      const body = yield* decodeBody(FunctionApp.FunctionAppCallRequest)
      const data = Schema.encodeSync(FunctionApp.FunctionAppRequestData)(body.data)
      const call = yield* startCall(stored, { body: {}, headers: {}, ...data }, Redacted.value(body.nonce))
      const xid = stored.fn.externalId ?? ""
      if (/respond-async/i.test(request.headers["prefer"] ?? "")) {
        const location = `${options.baseUrl()}/api/v1/projects/${encodeURIComponent(options.project)}/function-apps/${
          encodeURIComponent(xid)
        }/calls/${call.call.id}/response`
        return jsonResponse(appResult(call), 202, { location })
      }
      yield* Deferred.await(call.done)
      return jsonResponse(appResult(call))
    })

    const appCallOr404 = Effect.gen(function*() {
      const stored = yield* appOr404
      const callId = yield* idParam("callId")
      return yield* callOr404(stored.fn.id, callId)
    })

    // ----- routes ------------------------------------------------------------------------------------

    const p = <S extends string>(suffix: S) => `${PROJECT_PREFIX}${suffix}` as const

    const routes = [
      // functions
      HttpRouter.makeRoute("POST", p("/functions"), createFunction),
      HttpRouter.makeRoute(
        "GET",
        p("/functions"),
        Effect.flatMap(limitParam, (limit) => listFunctions(undefined, limit))
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/functions/list"),
        Effect.flatMap(
          decodeBody(CogniteFunction.FunctionListRequest),
          (body) => listFunctions(body.filter, body.limit)
        )
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/functions/byids"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const body = yield* decodeBody(Items.FunctionIdentifiersRequest)
          const found = yield* resolveFunctions(body.items, body.ignoreUnknownIds ?? false)
          return encoded(FunctionList, { items: found.map((f) => f.fn) })
        })
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/functions/delete"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:WRITE")
          const body = yield* decodeBody(Items.FunctionIdentifiersRequest)
          const found = yield* resolveFunctions(body.items, body.ignoreUnknownIds ?? false)
          yield* Effect.forEach(found, deleteFunction, { discard: true })
          return encoded(Items.EmptyResponse, {})
        })
      ),
      HttpRouter.makeRoute(
        "GET",
        p("/functions/limits"),
        Effect.map(requires("functionsAcl:READ"), () =>
          encoded(
            FunctionsLimits.FunctionsLimits,
            new FunctionsLimits.FunctionsLimits({
              timeoutMinutes: limits.timeoutMinutes,
              cpuCores: limits.cpuCores,
              memoryGb: limits.memoryGb,
              runtimes: limits.runtimes,
              responseSizeMb: limits.responseSizeMb
            })
          ))
      ),
      HttpRouter.makeRoute(
        "GET",
        p("/functions/status"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const status = yield* activationStatus
          return encoded(FunctionsLimits.FunctionsStatus, new FunctionsLimits.FunctionsStatus({ status }))
        })
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/functions/status"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:WRITE")
          if (store.activation === "inactive") {
            store.activation = "requested"
            activationRequestedAt = yield* now
            store.touch()
          }
          return encoded(
            FunctionsLimits.FunctionsStatus,
            new FunctionsLimits.FunctionsStatus({ status: store.activation }),
            202
          )
        })
      ),
      // schedules (before /functions/:functionId so the static segment wins)
      HttpRouter.makeRoute("POST", p("/functions/schedules"), createSchedule),
      HttpRouter.makeRoute(
        "GET",
        p("/functions/schedules"),
        Effect.flatMap(limitParam, (limit) => listSchedules(undefined, limit))
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/functions/schedules/list"),
        Effect.gen(function*() {
          const body = yield* decodeBody(RawScheduleListRequest)
          const filter = yield* scheduleFilter(body.filter)
          return yield* listSchedules(filter, body.limit)
        })
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/functions/schedules/byids"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const body = yield* decodeBody(Items.ScheduleIdsRequest)
          const unknown = body.items.filter((item) => !store.schedules.has(item.id)).map((item) => ({ id: item.id }))
          if (unknown.length > 0 && body.ignoreUnknownIds !== true) {
            return yield* Effect.fail(missing(unknown, "schedules"))
          }
          const items = body.items.flatMap((item) => {
            const s = store.schedules.get(item.id)
            return s === undefined ? [] : [s.schedule]
          })
          return encoded(ScheduleList, { items })
        })
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/functions/schedules/delete"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:WRITE")
          const body = yield* decodeBody(Items.ScheduleIdsRequest)
          const unknown = body.items.filter((item) => !store.schedules.has(item.id)).map((item) => ({ id: item.id }))
          if (unknown.length > 0 && body.ignoreUnknownIds !== true) {
            return yield* Effect.fail(missing(unknown, "schedules"))
          }
          for (const item of body.items) {
            const s = store.schedules.get(item.id)
            if (s === undefined) continue
            store.schedules.delete(item.id)
            const session = s.schedule.sessionId === undefined ? undefined : store.sessions.get(s.schedule.sessionId)
            if (session !== undefined) session.status = "REVOKED"
            yield* scheduler.stop(item.id)
          }
          store.touch()
          return encoded(Items.EmptyResponse, {})
        })
      ),
      HttpRouter.makeRoute(
        "GET",
        p("/functions/schedules/:scheduleId"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const stored = yield* Effect.flatMap(idParam("scheduleId"), scheduleOr404)
          return encoded(FunctionSchedule.FunctionSchedule, stored.schedule)
        })
      ),
      HttpRouter.makeRoute(
        "GET",
        p("/functions/schedules/:scheduleId/input_data"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const stored = yield* Effect.flatMap(idParam("scheduleId"), scheduleOr404)
          return encoded(
            FunctionSchedule.FunctionScheduleInputData,
            new FunctionSchedule.FunctionScheduleInputData({
              id: stored.schedule.id,
              ...(stored.data === undefined ? {} : { data: stored.data })
            })
          )
        })
      ),
      // one function and its calls
      HttpRouter.makeRoute(
        "GET",
        p("/functions/:functionId"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const stored = yield* Effect.flatMap(idParam("functionId"), functionOr404)
          return encoded(CogniteFunction.CogniteFunction, stored.fn)
        })
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/functions/:functionId/call"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:RUN")
          yield* requireActivated
          const stored = yield* Effect.flatMap(idParam("functionId"), functionOr404)
          const body = yield* decodeBody(FunctionCall.CallFunctionRequest)
          const call = yield* startCall(stored, body.data ?? {}, Redacted.value(body.nonce))
          return encoded(FunctionCall.FunctionCall, call.call, 201)
        })
      ),
      HttpRouter.makeRoute(
        "GET",
        p("/functions/:functionId/calls"),
        Effect.gen(function*() {
          const functionId = yield* idParam("functionId")
          const limit = yield* limitParam
          const cursor = (yield* query).get("cursor") ?? undefined
          return yield* listCalls(functionId, undefined, limit, cursor)
        })
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/functions/:functionId/calls/list"),
        Effect.gen(function*() {
          const functionId = yield* idParam("functionId")
          const body = yield* decodeBody(FunctionCall.FunctionCallListRequest)
          return yield* listCalls(functionId, body.filter, body.limit, body.cursor)
        })
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/functions/:functionId/calls/byids"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const functionId = yield* idParam("functionId")
          yield* functionOr404(functionId)
          const body = yield* decodeBody(Items.CallIdsRequest)
          const ids = body.items.map((item) => item.id)
          if (new Set(ids).size !== ids.length) {
            const seen = new Set<number>()
            const dups = ids.filter((id) => seen.has(id) || (seen.add(id), false)).map((id) => ({ id }))
            return yield* Effect.fail(new ApiFailure({ status: 400, message: "Duplicate call ids", duplicated: dups }))
          }
          const found: Array<FunctionCall.FunctionCall> = []
          const unknown: Array<ItemRef> = []
          for (const id of ids) {
            const c = store.calls.get(id)
            if (c === undefined || c.call.functionId !== functionId) unknown.push({ id })
            else found.push(c.call)
          }
          if (unknown.length > 0 && body.ignoreUnknownIds !== true) {
            return yield* Effect.fail(missing(unknown, "calls"))
          }
          return encoded(CallItems, { items: found })
        })
      ),
      HttpRouter.makeRoute(
        "GET",
        p("/functions/:functionId/calls/:callId"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const functionId = yield* idParam("functionId")
          yield* functionOr404(functionId)
          const stored = yield* Effect.flatMap(idParam("callId"), (callId) => callOr404(functionId, callId))
          return encoded(FunctionCall.FunctionCall, stored.call)
        })
      ),
      HttpRouter.makeRoute(
        "GET",
        p("/functions/:functionId/calls/:callId/response"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const functionId = yield* idParam("functionId")
          yield* functionOr404(functionId)
          const stored = yield* Effect.flatMap(idParam("callId"), (callId) => callOr404(functionId, callId))
          if (stored.call.status === "Running") {
            return yield* Effect.fail(badRequest(`Call ${stored.call.id} is still running: it has no response yet`))
          }
          return encoded(
            FunctionCall.FunctionCallResponse,
            new FunctionCall.FunctionCallResponse(callResponseBody(stored))
          )
        })
      ),
      HttpRouter.makeRoute(
        "GET",
        p("/functions/:functionId/calls/:callId/logs"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const functionId = yield* idParam("functionId")
          yield* functionOr404(functionId)
          const stored = yield* Effect.flatMap(idParam("callId"), (callId) => callOr404(functionId, callId))
          return encoded(FunctionCall.FunctionCallLogs, {
            items: stored.call.status === "Running" || stored.logs.length > 0
              ? stored.logs.map((line) =>
                new FunctionCall.FunctionCallLogEntry({
                  timestamp: Ids.EpochMillis.make(Math.max(0, Math.floor(line.timestamp))),
                  message: line.message
                })
              )
              : []
          })
        })
      ),
      // sessions
      HttpRouter.makeRoute("POST", p("/sessions"), createSession),
      HttpRouter.makeRoute(
        "GET",
        p("/sessions"),
        Effect.gen(function*() {
          yield* requires("sessionsAcl:LIST")
          const limit = (yield* limitParam) ?? 25
          const status = (yield* query).get("status")
          const items = [...store.sessions.values()]
            .filter((s) => status === null || s.status === status.toUpperCase())
            .slice(0, limit)
            .map(sessionView)
          return encoded(SessionList, { items })
        })
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/sessions/byids"),
        Effect.gen(function*() {
          yield* requires("sessionsAcl:LIST")
          const body = yield* decodeBody(SessionIdsRequest)
          const unknown = body.items.filter((item) => !store.sessions.has(item.id)).map((item) => ({ id: item.id }))
          if (unknown.length > 0) return yield* Effect.fail(missing(unknown, "sessions"))
          const items = body.items.flatMap((item) => {
            const s = store.sessions.get(item.id)
            return s === undefined ? [] : [sessionView(s)]
          })
          return encoded(SessionList, { items })
        })
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/sessions/revoke"),
        Effect.gen(function*() {
          yield* requires("sessionsAcl:DELETE")
          const body = yield* decodeBody(SessionIdsRequest)
          const items = body.items.flatMap((item) => {
            const s = store.sessions.get(item.id)
            if (s === undefined) return []
            s.status = "REVOKED"
            return [sessionView(s)]
          })
          store.touch()
          return encoded(SessionList, { items })
        })
      ),
      // files
      HttpRouter.makeRoute("POST", p("/files"), createFile),
      HttpRouter.makeRoute(
        "GET",
        p("/files"),
        Effect.gen(function*() {
          yield* requires("filesAcl:READ")
          const limit = (yield* limitParam) ?? 100
          return encoded(FileList, { items: [...store.files.values()].slice(0, limit).map((f) => f.meta) })
        })
      ),
      HttpRouter.makeRoute("PUT", p("/files/upload/:fileId"), uploadFile),
      HttpRouter.makeRoute(
        "GET",
        p("/files/:fileId"),
        Effect.gen(function*() {
          yield* requires("filesAcl:READ")
          const stored = yield* Effect.flatMap(idParam("fileId"), fileOr404)
          return encoded(Files.FileMetadata, stored.meta)
        })
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/files/byids"),
        Effect.gen(function*() {
          yield* requires("filesAcl:READ")
          const body = yield* decodeBody(FileByIdsRequest)
          const items = yield* resolveFiles(body.items, body.ignoreUnknownIds ?? false)
          return encoded(FileList, { items })
        })
      ),
      HttpRouter.makeRoute(
        "POST",
        p("/files/delete"),
        Effect.gen(function*() {
          yield* requires("filesAcl:WRITE")
          const body = yield* decodeBody(FileByIdsRequest)
          const items = yield* resolveFiles(body.items, body.ignoreUnknownIds ?? false)
          for (const meta of items) {
            store.files.delete(meta.id)
            yield* options.deleteBlob(meta.id)
          }
          store.touch()
          return encoded(Items.EmptyResponse, {})
        })
      ),
      // function apps
      HttpRouter.makeRoute(
        "GET",
        p("/function-apps"),
        Effect.map(requires("functionsAcl:READ"), () =>
          encoded(FunctionList, {
            items: [...store.functions.values()].map((f) => f.fn).filter((fn) => fn.externalId !== undefined)
          }))
      ),
      HttpRouter.makeRoute(
        "GET",
        p("/function-apps/:externalId"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const stored = yield* appOr404
          return encoded(CogniteFunction.CogniteFunction, stored.fn)
        })
      ),
      HttpRouter.makeRoute("POST", p("/function-apps/:externalId/calls"), appCall),
      HttpRouter.makeRoute(
        "GET",
        p("/function-apps/:externalId/calls"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const stored = yield* appOr404
          const items = [...store.calls.values()]
            .map((c) => c.call)
            .filter((c) => c.functionId === stored.fn.id)
            .sort(callOrder)
          return encoded(CallItems, { items })
        })
      ),
      HttpRouter.makeRoute(
        "GET",
        p("/function-apps/:externalId/calls/:callId/response"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const stored = yield* appCallOr404
          return jsonResponse(appResult(stored), stored.call.status === "Running" ? 202 : 200)
        })
      ),
      HttpRouter.makeRoute(
        "GET",
        p("/function-apps/:externalId/calls/:callId/logs"),
        Effect.gen(function*() {
          yield* requires("functionsAcl:READ")
          const stored = yield* appCallOr404
          return jsonResponse({
            items: stored.logs.map((l) => ({ timestamp: Math.floor(l.timestamp), message: l.message }))
          })
        })
      )
    ]
    return HttpRouter.fromIterable(routes)
  })
