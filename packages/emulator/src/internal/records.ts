/**
 * The persisted records of the store, one per function, call, schedule, file, session, issued token and
 * execution counter, plus one `meta` record: their schemas, how to read one out of the store, and how to
 * put one back.
 */
import { CogniteFunction, Files, FunctionCall, FunctionSchedule, FunctionsLimits, Ids } from "@effect-cdf/core"
import { Deferred, Effect, Schema } from "effect"
import type { RecordKind, Store } from "../State.js"

const LogLine = Schema.Struct({ timestamp: Schema.Number, message: Schema.String })
const StringRecord = Schema.Record({ key: Schema.String, value: Schema.String })
const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const FunctionRecord = Schema.Struct({ fn: CogniteFunction.CogniteFunction, secrets: StringRecord })
const CallRecord = Schema.Struct({
  call: FunctionCall.FunctionCall,
  logs: Schema.Array(LogLine),
  response: Schema.optionalWith(Schema.Struct({ value: Schema.Unknown }), { exact: true })
})
const ScheduleRecord = Schema.Struct({
  schedule: FunctionSchedule.FunctionSchedule,
  data: Schema.optionalWith(JsonObject, { exact: true })
})
const FileRecord = Schema.Struct({ meta: Files.FileMetadata, uploadToken: Schema.String })
const SessionRecord = Schema.Struct({
  id: Schema.Number,
  type: Schema.Literal("CLIENT_CREDENTIALS", "TOKEN_EXCHANGE", "ONESHOT_TOKEN_EXCHANGE"),
  status: Schema.Literal("READY", "ACTIVE", "REVOKED", "EXPIRED"),
  nonce: Schema.String,
  nonceExpiresAt: Schema.Number,
  nonceUsed: Schema.Boolean,
  createdTime: Schema.Number,
  clientId: Schema.optionalWith(Schema.String, { exact: true })
})
const TokenRecord = Schema.Struct({ expiresAt: Schema.Number })
const ExecutionRecord = Schema.Struct({ count: Schema.Number })
const MetaRecord = Schema.Struct({
  devToken: Schema.String,
  activation: FunctionsLimits.ActivationStatus,
  activationRequestedAt: Schema.optionalWith(Schema.Number, { exact: true, default: () => 0 }),
  offsetMillis: Schema.Number
})

const put = <K extends RecordKind, Id extends Schema.Schema.Any, V extends Schema.Schema.Any>(
  kind: K,
  id: Id,
  value: V
) => Schema.Struct({ put: Schema.Literal(kind), id, value })

/** One line of the journal: a record's new value, or its deletion. */
export const Line = Schema.Union(
  put("function", Schema.Number, FunctionRecord),
  put("call", Schema.Number, CallRecord),
  put("schedule", Schema.Number, ScheduleRecord),
  put("file", Schema.Number, FileRecord),
  put("session", Schema.Number, SessionRecord),
  put("token", Schema.String, TokenRecord),
  put("execution", Schema.Number, ExecutionRecord),
  put("meta", Schema.Number, MetaRecord),
  Schema.Struct({
    del: Schema.Literal("function", "call", "schedule", "file", "session", "token", "execution"),
    id: Schema.Union(Schema.Number, Schema.String)
  })
)
/** One line of the journal. */
export type Line = typeof Line.Type

/** The JSON text of a line. */
export const encodeLine = Schema.encodeSync(Schema.parseJson(Line))
/** A line from its JSON text. */
export const decodeLine = Schema.decodeUnknownEither(Schema.parseJson(Line))

const del = (kind: Exclude<RecordKind, "meta">, id: number | string): Line => ({ del: kind, id })

/** The line that brings a record of the store up to date: its value, or its deletion. */
export const lineOf = (store: Store, devToken: string, kind: RecordKind, id: number | string): Line => {
  const n = typeof id === "number" ? id : Number.NaN
  switch (kind) {
    case "function": {
      const f = store.functions.get(n)
      return f === undefined ? del(kind, id) : { put: kind, id: n, value: { fn: f.fn, secrets: f.secrets } }
    }
    case "call": {
      const c = store.calls.get(n)
      return c === undefined ? del(kind, id) : {
        put: kind,
        id: n,
        value: { call: c.call, logs: c.logs, ...(c.response === undefined ? {} : { response: c.response }) }
      }
    }
    case "schedule": {
      const s = store.schedules.get(n)
      return s === undefined
        ? del(kind, id)
        : { put: kind, id: n, value: { schedule: s.schedule, ...(s.data === undefined ? {} : { data: s.data }) } }
    }
    case "file": {
      const f = store.files.get(n)
      return f === undefined ? del(kind, id) : { put: kind, id: n, value: { meta: f.meta, uploadToken: f.uploadToken } }
    }
    case "session": {
      const s = store.sessions.get(n)
      if (s === undefined) return del(kind, id)
      const { clientId, ...rest } = s
      return { put: kind, id: n, value: { ...rest, ...(clientId === undefined ? {} : { clientId }) } }
    }
    case "token": {
      const t = store.tokens.get(String(id))
      return t === undefined ? del(kind, id) : { put: kind, id: String(id), value: { expiresAt: t.expiresAt } }
    }
    case "execution": {
      const count = store.executions.get(n)
      return count === undefined ? del(kind, id) : { put: kind, id: n, value: { count } }
    }
    case "meta":
      return {
        put: kind,
        id: 0,
        value: {
          devToken,
          activation: store.activation,
          activationRequestedAt: store.activationRequestedAt,
          offsetMillis: store.offsetMillis
        }
      }
  }
}

/** Every record of the store, as the lines of a compacted journal. */
export const allLines = (store: Store, devToken: string): Array<Line> => {
  const lines: Array<Line> = [lineOf(store, devToken, "meta", 0)]
  const add = (kind: RecordKind, ids: Iterable<number | string>) => {
    for (const id of ids) lines.push(lineOf(store, devToken, kind, id))
  }
  add("file", store.files.keys())
  add("function", store.functions.keys())
  add("session", store.sessions.keys())
  add("schedule", store.schedules.keys())
  add("call", store.calls.keys())
  add("token", store.tokens.keys())
  add("execution", store.executions.keys())
  return lines
}

/** The message a call gets when the emulator stopped while it ran. */
export const INTERRUPTED_MESSAGE = "The emulator stopped while this call was running; its outcome was lost."

/**
 * Applies one line to the store; returns the dev token of a `meta` line. A call that was running comes
 * back `Failed` with `INTERRUPTED_MESSAGE` (its outcome died with the process); file bytes are read by
 * the caller.
 */
export const applyLine = (store: Store, line: Line, now: number) =>
  Effect.gen(function*() {
    if ("del" in line) {
      const n = Number(line.id)
      if (line.del === "function") store.functions.delete(n)
      else if (line.del === "call") store.calls.delete(n)
      else if (line.del === "schedule") store.schedules.delete(n)
      else if (line.del === "file") store.files.delete(n)
      else if (line.del === "session") store.sessions.delete(n)
      else if (line.del === "token") store.tokens.delete(String(line.id))
      else store.executions.delete(n)
      return undefined
    }
    switch (line.put) {
      case "function":
        store.functions.set(line.id, { fn: line.value.fn, secrets: line.value.secrets, handler: undefined })
        return undefined
      case "call": {
        const done = yield* Deferred.make<void>()
        let call = line.value.call
        if (call.status === "Running") {
          call = new FunctionCall.FunctionCall({
            ...call,
            status: "Failed",
            endTime: Ids.EpochMillis.make(Math.max(now, call.startTime)),
            error: new FunctionCall.CallError({ message: INTERRUPTED_MESSAGE, trace: "" })
          })
          store.touch("call", line.id)
        }
        yield* Deferred.succeed(done, undefined)
        store.calls.set(line.id, { call, logs: [...line.value.logs], response: line.value.response, done })
        return undefined
      }
      case "schedule":
        store.schedules.set(line.id, { schedule: line.value.schedule, data: line.value.data })
        return undefined
      case "file":
        store.files.set(line.id, { meta: line.value.meta, uploadToken: line.value.uploadToken, bytes: undefined })
        return undefined
      case "session":
        store.sessions.set(line.id, { ...line.value, clientId: line.value.clientId })
        return undefined
      case "token":
        store.tokens.set(line.id, { expiresAt: line.value.expiresAt })
        return undefined
      case "execution":
        store.executions.set(line.id, line.value.count)
        return undefined
      case "meta":
        store.activation = line.value.activation
        store.activationRequestedAt = line.value.activationRequestedAt
        store.offsetMillis = line.value.offsetMillis
        return line.value.devToken
    }
  })

/** The `state.json` of emulators before the journal: read once, then compacted into the journal. */
export const LegacySnapshot = Schema.Struct({
  version: Schema.Literal(1),
  devToken: Schema.String,
  activation: FunctionsLimits.ActivationStatus,
  offsetMillis: Schema.Number,
  functions: Schema.Array(FunctionRecord),
  calls: Schema.Array(CallRecord),
  schedules: Schema.Array(ScheduleRecord),
  files: Schema.Array(FileRecord),
  sessions: Schema.Array(SessionRecord),
  executions: Schema.Array(Schema.Tuple(Schema.Number, Schema.Number))
})

/** The lines of a legacy snapshot. */
export const legacyLines = (snapshot: typeof LegacySnapshot.Type): Array<Line> => [
  {
    put: "meta",
    id: 0,
    value: {
      devToken: snapshot.devToken,
      activation: snapshot.activation,
      activationRequestedAt: 0,
      offsetMillis: snapshot.offsetMillis
    }
  },
  ...snapshot.files.map((value): Line => ({ put: "file", id: value.meta.id, value })),
  ...snapshot.functions.map((value): Line => ({ put: "function", id: value.fn.id, value })),
  ...snapshot.sessions.map((value): Line => ({ put: "session", id: value.id, value })),
  ...snapshot.schedules.map((value): Line => ({ put: "schedule", id: value.schedule.id, value })),
  ...snapshot.calls.map((value): Line => ({ put: "call", id: value.call.id, value })),
  ...snapshot.executions.map(([id, count]): Line => ({ put: "execution", id, value: { count } }))
]
