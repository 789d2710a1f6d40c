/**
 * JavaScript handlers, run in `node:worker_threads` Workers so a slow or crashing handler cannot stall
 * the server. Workers are kept warm per prepared handler (and memory cap and environment) in a small
 * pool; module state is shared between the calls one worker serves, as in a warm CDF container.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { Worker } from "node:worker_threads"
import { LineSplitter, type LogCollector } from "./logs.js"
import { type PooledWorker, WarmPool } from "./pool.js"
import { outcomeOf, Reply } from "./replies.js"
import { runWithTimeout } from "./timeout.js"
import type { PreparedHandler, RunOutcome, RunRequest } from "./types.js"
import { failed, memoryExceededMessage } from "./types.js"

/**
 * The worker's code. Eval workers are CommonJS in both the built package and the sources vitest runs,
 * so the handler module is loaded with a dynamic `import()`. Console and stdout/stderr writes become log
 * lines posted to the parent, on the same port as the result, so they arrive in order and before it.
 */
const workerSource = String.raw`
"use strict"
const { parentPort, workerData } = require("node:worker_threads")
const { pathToFileURL } = require("node:url")
const { Console } = require("node:console")

let current = null
const early = []
const post = (message) => parentPort.postMessage(message)
const emit = (message) => {
  const line = { type: "log", id: current, timestamp: Date.now(), message }
  if (current === null) {
    if (early.length < 1000) early.push(line)
  } else post(line)
}
const sink = () => {
  let partial = ""
  return {
    write(chunk, encoding, callback) {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8")
      const parts = (partial + text).split("\n")
      partial = parts.pop()
      for (const part of parts) emit(part.endsWith("\r") ? part.slice(0, -1) : part)
      const done = typeof encoding === "function" ? encoding : callback
      if (typeof done === "function") done()
      return true
    },
    flush() {
      if (partial !== "") {
        const rest = partial
        partial = ""
        emit(rest)
      }
    }
  }
}
const out = sink()
const err = sink()
process.stdout.write = out.write
process.stderr.write = err.write
globalThis.console = new Console({ stdout: out, stderr: err, ignoreErrors: false })

const describe = (error) => {
  try {
    if (error instanceof Error) {
      return { message: error.name + ": " + error.message, trace: typeof error.stack === "string" ? error.stack : undefined }
    }
    return { message: "Uncaught " + (typeof error === "string" ? error : JSON.stringify(error) ?? String(error)) }
  } catch {
    return { message: "Uncaught exception" }
  }
}
const resolveHandle = (mod) => {
  if (typeof mod.handle === "function") return mod.handle
  const fallback = mod.default
  if (fallback !== null && (typeof fallback === "object" || typeof fallback === "function") && typeof fallback.handle === "function") {
    return fallback.handle.bind(fallback)
  }
  return undefined
}
const loading = import(pathToFileURL(workerData.entry).href).then((mod) => {
  const handle = resolveHandle(mod)
  if (handle === undefined) throw new TypeError(workerData.name + " does not export a function named handle")
  return handle
})
loading.then(() => post({ type: "ready" }), (error) => post({ type: "loadError", ...describe(error) }))

const replacer = (key, value) => {
  const type = typeof value
  if (type === "function" || type === "symbol") {
    throw new TypeError("a " + type + (key === "" ? " was returned" : " at key " + JSON.stringify(key)))
  }
  return value
}
const encode = (value, limit) => {
  let json
  try {
    json = JSON.stringify(value === undefined ? null : value, replacer)
    if (typeof json !== "string") json = "null"
  } catch (error) {
    return { kind: "notJson", reason: error instanceof Error ? error.message : String(error) }
  }
  const bytes = Buffer.byteLength(json, "utf8")
  return bytes > limit ? { kind: "tooLarge", bytes } : { kind: "ok", json }
}
const run = async (msg) => {
  current = msg.id
  for (const line of early.splice(0)) post({ ...line, id: msg.id })
  let reply
  try {
    const handle = await loading
    const value = await handle({ data: msg.data, secrets: msg.secrets, functionCallInfo: msg.callInfo })
    reply = encode(value, msg.limit)
  } catch (error) {
    reply = { kind: "exception", ...describe(error) }
  }
  out.flush()
  err.flush()
  current = null
  post({ type: "result", id: msg.id, ...reply })
}
parentPort.on("message", (msg) => {
  if (msg !== null && typeof msg === "object" && msg.type === "call") void run(msg)
})
`

/**
 * The most idle workers kept per handler, memory cap and environment: enough for the concurrency of a
 * busy test (20 concurrent calls ran at 82 calls/s with 4 idle workers, most calls starting a worker).
 */
export const maxIdlePerKey = 24

/** How a call ended, as the parent sees it: the worker's reply, or the worker died. */
type CallEnd = Reply | { readonly kind: "died"; readonly message: string; readonly trace?: string }

interface ActiveCall {
  readonly id: number
  readonly collector: LogCollector
  readonly finish: (end: CallEnd) => void
}

/** What a worker posts to the parent, decoded with a `Schema`. */
const WorkerMessage = Schema.Union(
  Schema.Struct({ type: Schema.Literal("ready") }),
  Schema.Struct({
    type: Schema.Literal("loadError"),
    message: Schema.String,
    trace: Schema.optional(Schema.NullOr(Schema.String))
  }),
  Schema.Struct({ type: Schema.Literal("log"), id: Schema.Number, timestamp: Schema.Number, message: Schema.String }),
  Schema.extend(Schema.Struct({ type: Schema.Literal("result"), id: Schema.Number }), Reply)
)
const decodeWorkerMessage = Schema.decodeUnknownEither(WorkerMessage)

/** The problem of a handler that could not be loaded. */
type LoadProblem = { readonly message: string; readonly trace?: string }

const loadProblem = (message: string, trace: string | null | undefined): LoadProblem =>
  trace === null || trace === undefined ? { message } : { message, trace }

const errorCode = (error: Error): unknown => "code" in error ? error.code : undefined

/** One worker thread with one handler module loaded. */
export class JsWorker implements PooledWorker {
  readonly worker: Worker
  /** Resolves with `undefined` once the module loaded, or with why it could not be loaded. */
  readonly ready: Promise<LoadProblem | undefined>
  /** Resolves once the thread has exited. */
  readonly gone: Promise<void>
  private active: ActiveCall | undefined
  private lastError: Error | undefined
  private nextId = 0
  dead = false

  constructor(
    readonly key: string,
    readonly dir: string,
    entryPath: string,
    entryName: string,
    memoryMb: number,
    env: Readonly<Record<string, string>> | undefined
  ) {
    this.worker = new Worker(workerSource, {
      eval: true,
      name: `effect-cdf handler ${entryName}`,
      workerData: { entry: entryPath, name: entryName },
      resourceLimits: { maxOldGenerationSizeMb: Math.max(8, Math.floor(memoryMb)) },
      stdout: true,
      stderr: true,
      ...(env === undefined ? {} : { env: { ...process.env, ...env } })
    })
    const worker = this.worker
    let resolveReady: (value: LoadProblem | undefined) => void = () => {}
    this.ready = new Promise((resolve) => {
      resolveReady = resolve
    })
    for (const stream of [worker.stdout, worker.stderr]) {
      const splitter = new LineSplitter((line) => this.active?.collector.push(line))
      stream.setEncoding("utf8")
      stream.on("data", (chunk: string) => splitter.write(chunk))
    }
    worker.on("message", (message: unknown) => {
      const decoded = decodeWorkerMessage(message)
      if (decoded._tag === "Left") return
      const event = decoded.right
      const active = this.active
      switch (event.type) {
        case "ready":
          return resolveReady(undefined)
        case "loadError":
          return resolveReady(loadProblem(event.message, event.trace))
        case "log":
          if (active !== undefined && event.id === active.id) active.collector.push(event.message, event.timestamp)
          return
        case "result":
          if (active !== undefined && event.id === active.id) {
            this.active = undefined
            active.finish(event)
          }
      }
    })
    worker.on("error", (error) => {
      this.lastError = error
    })
    this.gone = new Promise((resolve) => {
      worker.on("exit", (code) => {
        this.dead = true
        const error = this.lastError
        const died: Extract<CallEnd, { readonly kind: "died" }> = error === undefined
          ? { kind: "died", message: `The handler's worker exited with code ${code}.` }
          : errorCode(error) === "ERR_WORKER_OUT_OF_MEMORY"
          ? { kind: "died", message: memoryExceededMessage(memoryMb) }
          : error.stack === undefined
          ? { kind: "died", message: `${error.name}: ${error.message}` }
          : { kind: "died", message: `${error.name}: ${error.message}`, trace: error.stack }
        resolveReady(died)
        const active = this.active
        this.active = undefined
        active?.finish(died)
        resolve()
      })
    })
  }

  /** Whether a call is running on this worker. */
  get busy(): boolean {
    return this.active !== undefined
  }

  /** Starts a call; `finish` is called once with its reply (or with how the worker died). */
  begin(req: RunRequest, collector: LogCollector, finish: (end: CallEnd) => void): void {
    this.nextId += 1
    const id = this.nextId
    this.active = { id, collector, finish }
    this.worker.ref()
    this.worker.postMessage({
      type: "call",
      id,
      data: req.data === undefined ? {} : req.data,
      secrets: req.secrets,
      callInfo: req.callInfo,
      limit: req.responseSizeLimitBytes
    })
  }

  /** Lets an idle worker not keep the Node process alive. */
  unref(): void {
    this.worker.unref()
  }

  /** Forgets the running call, if any. */
  abandon(): void {
    this.active = undefined
  }

  /** Stops the thread. */
  terminate(): Promise<void> {
    this.dead = true
    this.active = undefined
    void this.worker.terminate()
    return this.gone
  }
}

/** The warm workers of every prepared JavaScript handler. */
export class JsPool extends WarmPool<JsWorker> {
  constructor() {
    super(
      (key, handler, memoryMb, env) =>
        new JsWorker(key, handler.dir, `${handler.dir}/${handler.entry}`, handler.entry, memoryMb, env),
      maxIdlePerKey
    )
  }
}

/** Loads a handler in a fresh worker; the worker joins the pool if it loads. */
export const loadJavaScript = (
  pool: JsPool,
  handler: PreparedHandler,
  memoryMb: number,
  timeoutMillis: number
): Promise<LoadProblem | undefined> => {
  let worker: JsWorker
  try {
    worker = pool.spawn(handler, memoryMb, undefined)
  } catch (error) {
    return Promise.resolve({ message: error instanceof Error ? error.message : String(error) })
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const timedOut = new Promise<{ readonly message: string }>((resolve) => {
    timer = setTimeout(
      () => resolve({ message: `Loading ${handler.entry} took longer than ${timeoutMillis} ms.` }),
      timeoutMillis
    )
  })
  return Promise.race([worker.ready, timedOut]).then((problem) => {
    clearTimeout(timer)
    if (problem === undefined) pool.settle(worker)
    else void worker.terminate()
    return problem
  })
}

const outcomeOfEnd = (end: CallEnd, req: RunRequest, collector: LogCollector): RunOutcome =>
  end.kind === "died" ? failed(collector.close(), end.message, end.trace) : outcomeOf(end, req, collector.close())

/** Runs one call of a JavaScript handler. Never fails; a timeout or an interruption stops the worker. */
export const runJavaScript = (pool: JsPool, req: RunRequest): Effect.Effect<RunOutcome> =>
  runWithTimeout(req, (collector) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        try {
          return pool.acquire(req.handler, req.memoryMb, req.envVars)
        } catch (error) {
          return `Could not start a worker: ${error instanceof Error ? error.message : String(error)}`
        }
      }),
      (worker) =>
        typeof worker === "string" ? Effect.succeed(failed([], worker)) : Effect.async<RunOutcome>((resume) => {
          worker.begin(req, collector, (end) => resume(Effect.succeed(outcomeOfEnd(end, req, collector))))
        }),
      // A worker still busy (the call timed out or was interrupted) is terminated by `settle`.
      (worker) => Effect.sync(() => typeof worker === "string" ? undefined : pool.settle(worker))
    ))
