/**
 * Persistence in a data directory: `state.json` (functions, calls with their logs and responses,
 * schedules, sessions, file metadata) and `files/<id>.bin` (uploaded bytes), every file written to a
 * temporary name and renamed, so a crash never leaves half a file.
 *
 * @since 0.1.0
 */
import type { CogniteFunction } from "@effect-cdf/core"
import { FunctionCall, Ids } from "@effect-cdf/core"
import { Data, Deferred, Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Snapshot, type Snapshot as SnapshotType, type Store, toSnapshot } from "./State.js"

/** Reading or writing the data directory failed. */
export class PersistenceError extends Data.TaggedError("PersistenceError")<{ readonly message: string }> {}

const STATE_FILE = "state.json"

/** Writes `bytes` to `file` atomically (temporary file + rename). */
export const writeAtomic = (file: string, bytes: Uint8Array | string) =>
  Effect.try({
    try: () => {
      fs.mkdirSync(path.dirname(file), { recursive: true })
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
      fs.writeFileSync(tmp, bytes)
      fs.renameSync(tmp, file)
    },
    catch: (e) => new PersistenceError({ message: `could not write ${file}: ${String(e)}` })
  })

/** Where an uploaded file's bytes live. */
export const blobPath = (dataDir: string, fileId: number) => path.join(dataDir, "files", `${fileId}.bin`)

const encodeSnapshot = Schema.encodeSync(Schema.parseJson(Snapshot))
const decodeSnapshot = Schema.decodeUnknownEither(Schema.parseJson(Snapshot))

/** Writes the state of `store` to `dataDir`. */
export const save = (dataDir: string, store: Store, devToken: string) =>
  Effect.suspend(() => writeAtomic(path.join(dataDir, STATE_FILE), encodeSnapshot(toSnapshot(store, devToken))))

/** The message a call gets when the emulator stopped while it ran. */
export const INTERRUPTED_MESSAGE = "The emulator stopped while this call was running; its outcome was lost."

/**
 * Loads `dataDir` into `store` and returns the dev token saved there (if any). Calls that were running
 * come back `Failed` with `INTERRUPTED_MESSAGE`.
 */
export const load = (dataDir: string, store: Store, now: number) =>
  Effect.gen(function*() {
    const file = path.join(dataDir, STATE_FILE)
    if (!fs.existsSync(file)) return undefined
    const text = yield* Effect.try({
      try: () => fs.readFileSync(file, "utf8"),
      catch: (e) => new PersistenceError({ message: `could not read ${file}: ${String(e)}` })
    })
    const decoded = decodeSnapshot(text)
    if (decoded._tag === "Left") {
      return yield* new PersistenceError({ message: `${file} is not a valid emulator state: ${decoded.left.message}` })
    }
    const snapshot: SnapshotType = decoded.right
    store.activation = snapshot.activation
    store.offsetMillis = snapshot.offsetMillis
    for (const f of snapshot.files) {
      const blob = blobPath(dataDir, f.meta.id)
      const bytes = fs.existsSync(blob) ? new Uint8Array(fs.readFileSync(blob)) : undefined
      store.files.set(f.meta.id, { meta: f.meta, uploadToken: f.uploadToken, bytes })
    }
    for (const f of snapshot.functions) {
      store.functions.set(f.fn.id, { fn: f.fn, secrets: f.secrets, handler: undefined })
    }
    for (const c of snapshot.calls) {
      const done = yield* Deferred.make<void>()
      let call = c.call
      if (call.status === "Running") {
        call = new FunctionCall.FunctionCall({
          ...call,
          status: "Failed",
          endTime: Ids.EpochMillis.make(Math.max(now, call.startTime)),
          error: new FunctionCall.CallError({ message: INTERRUPTED_MESSAGE, trace: "" })
        })
      }
      yield* Deferred.succeed(done, undefined)
      store.calls.set(call.id, { call, logs: [...c.logs], response: c.response, done })
    }
    for (const s of snapshot.schedules) store.schedules.set(s.schedule.id, { schedule: s.schedule, data: s.data })
    for (const s of snapshot.sessions) {
      store.sessions.set(s.id, { ...s, clientId: s.clientId })
    }
    for (const [functionId, count] of snapshot.executions) store.executions.set(functionId, count)
    return snapshot.devToken
  })

/** Whether a stored function must be deployed again after a restart (its handler is not persisted). */
export const needsRedeploy = (fn: CogniteFunction.CogniteFunction) => fn.status !== "Failed"
