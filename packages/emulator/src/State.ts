/**
 * The emulator's state: functions, calls, schedules, sessions, files and tokens of one project, with the
 * emulator's clock and the snapshot form persisted to disk.
 *
 * @since 0.1.0
 */
import { CogniteFunction, Files, FunctionCall, FunctionSchedule, FunctionsLimits } from "@effect-cdf/core"
import type { Deferred } from "effect"
import { Clock, Context, Effect, Layer, Schema } from "effect"
import { freshId } from "./internal/ids.js"
import type { PreparedHandler } from "./Runtime.js"

/** One line of a call's log. */
export interface LogLine {
  readonly timestamp: number
  readonly message: string
}

/** A function with what the API does not show: its secret values and its prepared handler. */
export interface StoredFunction {
  fn: CogniteFunction.CogniteFunction
  readonly secrets: Readonly<Record<string, string>>
  handler: PreparedHandler | undefined
}

/** A call with its logs, its response and a signal for when it ends. */
export interface StoredCall {
  call: FunctionCall.FunctionCall
  readonly logs: Array<LogLine>
  response: { readonly value: unknown } | undefined
  readonly done: Deferred.Deferred<void>
}

/** A schedule with its write-only input data. */
export interface StoredSchedule {
  readonly schedule: FunctionSchedule.FunctionSchedule
  readonly data: Readonly<Record<string, unknown>> | undefined
}

/** A file of the Files API with its bytes once uploaded. */
export interface StoredFile {
  meta: Files.FileMetadata
  readonly uploadToken: string
  bytes: Uint8Array | undefined
}

/** The session types. */
export type SessionKind = "CLIENT_CREDENTIALS" | "TOKEN_EXCHANGE" | "ONESHOT_TOKEN_EXCHANGE"

/** A session and its nonce. */
export interface StoredSession {
  readonly id: number
  readonly type: SessionKind
  status: "READY" | "ACTIVE" | "REVOKED" | "EXPIRED"
  readonly nonce: string
  readonly nonceExpiresAt: number
  nonceUsed: boolean
  readonly createdTime: number
  readonly clientId: string | undefined
}

/** A token issued by `/oauth2/token`. */
export interface IssuedToken {
  readonly expiresAt: number
}

/** The in-memory store of one emulated project. Every method is synchronous: call it inside `Effect.sync`. */
export class Store {
  readonly functions = new Map<number, StoredFunction>()
  readonly calls = new Map<number, StoredCall>()
  readonly schedules = new Map<number, StoredSchedule>()
  readonly files = new Map<number, StoredFile>()
  readonly sessions = new Map<number, StoredSession>()
  readonly tokens = new Map<string, IssuedToken>()
  /** How many times each function's handler was run. */
  readonly executions = new Map<number, number>()
  activation: FunctionsLimits.ActivationStatus = "activated"
  /** Milliseconds added to the clock by `advance`. */
  offsetMillis = 0
  /** Bumped on every change, so persistence knows when to write. */
  version = 0

  /** Records that something changed. */
  touch(): void {
    this.version++
  }

  /** A new id no resource of the map holds. */
  newId(map: ReadonlyMap<number, unknown>): number {
    return freshId((id) => map.has(id))
  }

  /** The function with this external id. */
  functionByExternalId(externalId: string): StoredFunction | undefined {
    for (const f of this.functions.values()) if (f.fn.externalId === externalId) return f
    return undefined
  }

  /** The file with this external id. */
  fileByExternalId(externalId: string): StoredFile | undefined {
    for (const f of this.files.values()) if (f.meta.externalId === externalId) return f
    return undefined
  }

  /** The calls running now, for one function or all. */
  runningCalls(functionId?: number): number {
    let n = 0
    for (const c of this.calls.values()) {
      if (c.call.status === "Running" && (functionId === undefined || c.call.functionId === functionId)) n++
    }
    return n
  }
}

/** The state of one emulator. */
export class State extends Context.Tag("@effect-cdf/emulator/State")<State, State.Service>() {}

/** The state's service. */
export declare namespace State {
  /** The state's service. */
  export interface Service {
    readonly store: Store
    /** The emulator's time: the clock plus what `advance` added. */
    readonly now: Effect.Effect<number>
  }
}

/** Makes an empty state. */
export const make = Effect.sync((): State.Service => {
  const store = new Store()
  return {
    store,
    now: Effect.map(Clock.currentTimeMillis, (t) => t + store.offsetMillis)
  }
})

/** An empty state. */
export const layer = Layer.effect(State, make)

// ---------------------------------------------------------------------------------------------------------
// snapshot
// ---------------------------------------------------------------------------------------------------------

const LogLineSchema = Schema.Struct({ timestamp: Schema.Number, message: Schema.String })
const StringRecord = Schema.Record({ key: Schema.String, value: Schema.String })
const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** The persisted form of the whole state (file bytes are stored beside it). */
export const Snapshot = Schema.Struct({
  version: Schema.Literal(1),
  devToken: Schema.String,
  activation: FunctionsLimits.ActivationStatus,
  offsetMillis: Schema.Number,
  functions: Schema.Array(Schema.Struct({ fn: CogniteFunction.CogniteFunction, secrets: StringRecord })),
  calls: Schema.Array(Schema.Struct({
    call: FunctionCall.FunctionCall,
    logs: Schema.Array(LogLineSchema),
    response: Schema.optionalWith(Schema.Struct({ value: Schema.Unknown }), { exact: true })
  })),
  schedules: Schema.Array(Schema.Struct({
    schedule: FunctionSchedule.FunctionSchedule,
    data: Schema.optionalWith(JsonObject, { exact: true })
  })),
  files: Schema.Array(Schema.Struct({ meta: Files.FileMetadata, uploadToken: Schema.String })),
  sessions: Schema.Array(Schema.Struct({
    id: Schema.Number,
    type: Schema.Literal("CLIENT_CREDENTIALS", "TOKEN_EXCHANGE", "ONESHOT_TOKEN_EXCHANGE"),
    status: Schema.Literal("READY", "ACTIVE", "REVOKED", "EXPIRED"),
    nonce: Schema.String,
    nonceExpiresAt: Schema.Number,
    nonceUsed: Schema.Boolean,
    createdTime: Schema.Number,
    clientId: Schema.optionalWith(Schema.String, { exact: true })
  })),
  executions: Schema.Array(Schema.Tuple(Schema.Number, Schema.Number))
})
/** The persisted form of the whole state. */
export type Snapshot = typeof Snapshot.Type

/** The snapshot of a store. */
export const toSnapshot = (store: Store, devToken: string): Snapshot => ({
  version: 1,
  devToken,
  activation: store.activation,
  offsetMillis: store.offsetMillis,
  functions: [...store.functions.values()].map((f) => ({ fn: f.fn, secrets: f.secrets })),
  calls: [...store.calls.values()].map((c) => ({
    call: c.call,
    logs: c.logs,
    ...(c.response === undefined ? {} : { response: c.response })
  })),
  schedules: [...store.schedules.values()].map((s) => ({
    schedule: s.schedule,
    ...(s.data === undefined ? {} : { data: s.data })
  })),
  files: [...store.files.values()].map((f) => ({ meta: f.meta, uploadToken: f.uploadToken })),
  sessions: [...store.sessions.values()].map((s) => ({
    id: s.id,
    type: s.type,
    status: s.status,
    nonce: s.nonce,
    nonceExpiresAt: s.nonceExpiresAt,
    nonceUsed: s.nonceUsed,
    createdTime: s.createdTime,
    ...(s.clientId === undefined ? {} : { clientId: s.clientId })
  })),
  executions: [...store.executions.entries()]
})
