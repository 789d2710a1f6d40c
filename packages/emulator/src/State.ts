/**
 * The emulator's state: functions, calls, schedules, sessions, files and tokens of one project, with the
 * emulator's clock, and what changed since persistence last wrote it.
 *
 * @since 0.1.0
 */
import type { CogniteFunction, Files, FunctionCall, FunctionSchedule, FunctionsLimits } from "@effect-cdf/core"
import type { Deferred } from "effect"
import { Clock, Context, Effect, Layer } from "effect"
import type { PreparedHandler } from "./HandlerRuntime.js"
import { freshId } from "./internal/ids.js"

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

/** The kinds of records the store holds, each persisted on its own. */
export type RecordKind = "function" | "call" | "schedule" | "file" | "session" | "token" | "execution" | "meta"

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
  /** When activation was requested (emulator time), for the activation delay. */
  activationRequestedAt = 0
  /** Milliseconds added to the clock by `advance`. */
  offsetMillis = 0
  /** The records changed since persistence last wrote them, by kind. */
  readonly dirty = new Map<RecordKind, Set<number | string>>()

  /** Records that a record changed (or was deleted): persistence writes it before the next answer. */
  touch(kind: RecordKind, id: number | string = 0): void {
    let ids = this.dirty.get(kind)
    if (ids === undefined) {
      ids = new Set()
      this.dirty.set(kind, ids)
    }
    ids.add(id)
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

  /** How many calls run now, per function: kept as calls start and end, so checking a limit is O(1). */
  private readonly running = new Map<number, number>()
  private runningTotal = 0

  /** Counts a call of `functionId` as running. */
  callStarted(functionId: number): void {
    this.running.set(functionId, (this.running.get(functionId) ?? 0) + 1)
    this.runningTotal++
  }

  /** Counts a call of `functionId` as ended. */
  callEnded(functionId: number): void {
    const n = (this.running.get(functionId) ?? 0) - 1
    if (n > 0) this.running.set(functionId, n)
    else this.running.delete(functionId)
    this.runningTotal = Math.max(0, this.runningTotal - 1)
  }

  /** The calls running now, for one function or all. */
  runningCalls(functionId?: number): number {
    return functionId === undefined ? this.runningTotal : this.running.get(functionId) ?? 0
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

/** Makes an empty state, with Functions in the given activation status (default `activated`). */
export const makeWith = (activation: FunctionsLimits.ActivationStatus = "activated") =>
  Effect.sync((): State.Service => {
    const store = new Store()
    store.activation = activation
    return {
      store,
      now: Effect.map(Clock.currentTimeMillis, (t) => t + store.offsetMillis)
    }
  })

/** Makes an empty state. */
export const make = makeWith()

/** An empty state. */
export const layer = Layer.effect(State, make)

/** An empty state with Functions in the given activation status. */
export const layerWith = (activation: FunctionsLimits.ActivationStatus) => Layer.effect(State, makeWith(activation))
