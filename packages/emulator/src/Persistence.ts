/**
 * Persistence in a data directory, durable before every answer: `journal.jsonl` is an append-only
 * journal of JSON lines, one record per line (`{"put":"call","id":7,"value":{...}}` or
 * `{"del":"call","id":7}`), appended and fsync'ed before the emulator answers a request that changed
 * something, so a write that got a 2xx survives `kill -9`. Uploaded bytes live in `files/<id>.bin`,
 * written to a temporary name, fsync'ed and renamed before the upload is answered. On start the journal
 * is replayed (a torn last line, the one write a crash can cut, is dropped) and compacted into a fresh
 * journal of one line per record. Every file is created with mode 0600: the journal holds the dev token
 * and the functions' secrets.
 *
 * @since 0.1.0
 */
import { Context, Data, Effect, Layer, Schema } from "effect"
import type { Scope } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import {
  allLines,
  applyLine,
  decodeLine,
  encodeLine,
  INTERRUPTED_MESSAGE as INTERRUPTED,
  legacyLines,
  LegacySnapshot,
  type Line,
  lineOf
} from "./internal/records.js"
import { State, type Store } from "./State.js"

/** Reading or writing the data directory failed. */
export class PersistenceError extends Data.TaggedError("PersistenceError")<{ readonly message: string }> {}

/** The message a call gets when the emulator stopped while it ran. */
export const INTERRUPTED_MESSAGE = INTERRUPTED

/** The journal's file name in the data directory. */
export const JOURNAL_FILE = "journal.jsonl"
/** The snapshot file of emulators before the journal, read once and replaced by the journal. */
export const LEGACY_STATE_FILE = "state.json"
/** The mode of every file the emulator writes: the journal holds the dev token and function secrets. */
export const FILE_MODE = 0o600

/** The emulator's persistence. */
export class Persistence extends Context.Tag("@effect-cdf/emulator/Persistence")<Persistence, Persistence.Service>() {}

/** The persistence's service. */
export declare namespace Persistence {
  /** The persistence's service. */
  export interface Service {
    /** The dev token saved in the data directory, if any. */
    readonly savedToken: string | undefined
    /** Sets the dev token the journal records (once the token authority chose it). */
    readonly setDevToken: (token: string) => Effect.Effect<void, PersistenceError>
    /** Makes every change so far durable (a no-op without a data directory). */
    readonly flush: Effect.Effect<void, PersistenceError>
    /** Stores an uploaded file's bytes durably. */
    readonly saveBlob: (fileId: number, bytes: Uint8Array) => Effect.Effect<void, PersistenceError>
    /** Removes a deleted file's bytes. */
    readonly deleteBlob: (fileId: number) => Effect.Effect<void>
  }
}

const attempt = <A>(what: string, f: () => A) =>
  Effect.try({ try: f, catch: (e) => new PersistenceError({ message: `could not ${what}: ${String(e)}` }) })

/** Writes `bytes` to `file` durably and atomically (temporary file, fsync, rename), with mode 0600. */
export const writeAtomic = (file: string, bytes: Uint8Array | string) =>
  attempt(`write ${file}`, () => {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
    const fd = fs.openSync(tmp, "w", FILE_MODE)
    try {
      fs.writeSync(fd, typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, file)
    syncDir(path.dirname(file))
  })

const syncDir = (dir: string) => {
  try {
    const fd = fs.openSync(dir, "r")
    try {
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    // Not every platform can fsync a directory; the rename itself is still atomic.
  }
}

/** Where an uploaded file's bytes live. */
export const blobPath = (dataDir: string, fileId: number) => path.join(dataDir, "files", `${fileId}.bin`)

/** The lines of a journal's text; a torn last line is dropped, any other bad line is an error. */
const parseJournal = (text: string, file: string): Effect.Effect<Array<Line>, PersistenceError> => {
  const raw = text.split("\n")
  const lines: Array<Line> = []
  for (let i = 0; i < raw.length; i++) {
    const entry = raw[i] ?? ""
    if (entry === "") continue
    const decoded = decodeLine(entry)
    if (decoded._tag === "Right") {
      lines.push(decoded.right)
      continue
    }
    // Only the last line can be cut by a crash (lines are appended whole, then fsync'ed).
    if (i === raw.length - 1) break
    return Effect.fail(
      new PersistenceError({ message: `${file} line ${i + 1} is not a valid journal line: ${decoded.left.message}` })
    )
  }
  return Effect.succeed(lines)
}

const readLines = (dataDir: string) =>
  Effect.gen(function*() {
    const journal = path.join(dataDir, JOURNAL_FILE)
    if (fs.existsSync(journal)) {
      return yield* parseJournal(yield* attempt(`read ${journal}`, () => fs.readFileSync(journal, "utf8")), journal)
    }
    const legacy = path.join(dataDir, LEGACY_STATE_FILE)
    if (!fs.existsSync(legacy)) return []
    const text = yield* attempt(`read ${legacy}`, () => fs.readFileSync(legacy, "utf8"))
    const snapshot = Schema.decodeUnknownEither(Schema.parseJson(LegacySnapshot))(text)
    if (snapshot._tag === "Left") {
      return yield* new PersistenceError({
        message: `${legacy} is not a valid emulator state: ${snapshot.left.message}`
      })
    }
    return legacyLines(snapshot.right)
  })

/** Appends journal lines and fsyncs them; compacts the journal when it has grown far past its records. */
class Journal {
  private fd: number
  private appended = 0
  private compactedBytes = 0

  constructor(private readonly file: string) {
    this.fd = fs.openSync(file, "a", FILE_MODE)
  }

  append(text: string): void {
    fs.writeSync(this.fd, text)
    fs.fdatasyncSync(this.fd)
    this.appended += Buffer.byteLength(text)
  }

  get needsCompaction(): boolean {
    return this.appended > Math.max(64 * 1024 * 1024, 4 * this.compactedBytes)
  }

  /** Replaces the journal with `text` (one line per record), atomically. */
  compact(text: string): Effect.Effect<void, PersistenceError> {
    return writeAtomic(this.file, text).pipe(
      Effect.flatMap(() =>
        attempt(`reopen ${this.file}`, () => {
          fs.closeSync(this.fd)
          this.fd = fs.openSync(this.file, "a", FILE_MODE)
          this.appended = 0
          this.compactedBytes = Buffer.byteLength(text)
        })
      )
    )
  }

  close(): void {
    fs.closeSync(this.fd)
  }
}

const journalText = (lines: ReadonlyArray<Line>) => lines.map((line) => `${encodeLine(line)}\n`).join("")

/** The lines of what changed since the last flush; clears the changes. */
const takeDirty = (store: Store, devToken: string): Array<Line> => {
  const lines: Array<Line> = []
  for (const [kind, ids] of store.dirty) for (const id of ids) lines.push(lineOf(store, devToken, kind, id))
  store.dirty.clear()
  return lines
}

const inMemory: Effect.Effect<Persistence.Service, never, State> = Effect.map(State, ({ store }) => ({
  savedToken: undefined,
  setDevToken: () => Effect.void,
  flush: Effect.sync(() => store.dirty.clear()),
  saveBlob: () => Effect.void,
  deleteBlob: () => Effect.void
}))

/** Loads `dataDir` into the state, compacts its journal and keeps it open for appends until the scope closes. */
export const make = (dataDir: string): Effect.Effect<Persistence.Service, PersistenceError, State | Scope.Scope> =>
  Effect.gen(function*() {
    const { now, store } = yield* State
    yield* attempt(`create ${dataDir}`, () => fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 }))
    const t = yield* now
    let savedToken: string | undefined
    for (const line of yield* readLines(dataDir)) {
      savedToken = (yield* applyLine(store, line, t)) ?? savedToken
    }
    for (const [id, file] of store.files) {
      const blob = blobPath(dataDir, id)
      if (fs.existsSync(blob)) file.bytes = new Uint8Array(fs.readFileSync(blob))
    }
    let devToken = savedToken ?? ""
    const file = path.join(dataDir, JOURNAL_FILE)
    const journal = yield* Effect.acquireRelease(
      attempt(`open ${file}`, () => new Journal(file)),
      (journal) => Effect.sync(() => journal.close())
    )
    // Runs before the journal closes and after everything built on persistence (calls, schedules) stopped.
    yield* Effect.addFinalizer(() => Effect.ignoreLogged(Effect.suspend(() => flush)))
    const compact = Effect.suspend(() => {
      store.dirty.clear()
      return journal.compact(journalText(allLines(store, devToken)))
    })
    const flush = Effect.suspend(() => {
      if (store.dirty.size === 0) return Effect.void
      const text = journalText(takeDirty(store, devToken))
      return attempt(`append to ${file}`, () => journal.append(text)).pipe(
        Effect.zipRight(journal.needsCompaction ? compact : Effect.void)
      )
    })
    const service: Persistence.Service = {
      savedToken,
      setDevToken: (token) =>
        Effect.suspend(() => {
          devToken = token
          const legacy = path.join(dataDir, LEGACY_STATE_FILE)
          return compact.pipe(Effect.tap(() => Effect.sync(() => fs.rmSync(legacy, { force: true }))))
        }),
      flush,
      saveBlob: (fileId, bytes) => writeAtomic(blobPath(dataDir, fileId), bytes),
      deleteBlob: (fileId) => Effect.sync(() => fs.rmSync(blobPath(dataDir, fileId), { force: true }))
    }
    return service
  })

/** Persistence in `dataDir`, or none (changes are dropped) without one. */
export const layer = (dataDir: string | undefined): Layer.Layer<Persistence, PersistenceError, State> =>
  Layer.scoped(Persistence, dataDir === undefined ? inMemory : make(dataDir))

/** Whether a stored function must be deployed again after a restart (its handler is not persisted). */
export const needsRedeploy = (fn: { readonly status: string }) => fn.status !== "Failed"
