/**
 * JavaScript handlers, run in `node:worker_threads` Workers so a slow or crashing handler cannot stall
 * the server. Workers are kept warm per prepared handler (and memory cap and environment) in a small
 * pool; module state is shared between the calls one worker serves, as in a warm CDF container.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { Worker } from "node:worker_threads"
import { LineSplitter, type LogCollector } from "./logs.js"
import { runWithTimeout } from "./timeout.js"
import type { PreparedHandler, RunOutcome, RunRequest } from "./types.js"
import { failed, memoryExceededMessage, notSerialisableMessage, responseTooLargeMessage } from "./types.js"

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

type Reply =
  | { readonly kind: "ok"; readonly json: string }
  | { readonly kind: "exception"; readonly message: string; readonly trace?: string }
  | { readonly kind: "notJson"; readonly reason: string }
  | { readonly kind: "tooLarge"; readonly bytes: number }
  | { readonly kind: "died"; readonly message: string; readonly trace?: string }

interface ActiveCall {
  readonly id: number
  readonly collector: LogCollector
  readonly finish: (reply: Reply) => void
}

const str = (value: unknown): string | undefined => typeof value === "string" ? value : undefined
const field = (message: object, name: string): unknown => name in message ? Reflect.get(message, name) : undefined

const toReply = (message: object): Reply => {
  const trace = str(field(message, "trace"))
  switch (field(message, "kind")) {
    case "ok":
      return { kind: "ok", json: str(field(message, "json")) ?? "null" }
    case "notJson":
      return { kind: "notJson", reason: str(field(message, "reason")) ?? "unknown reason" }
    case "tooLarge": {
      const bytes = field(message, "bytes")
      return { kind: "tooLarge", bytes: typeof bytes === "number" ? bytes : Number.NaN }
    }
    default: {
      const text = str(field(message, "message")) ?? "The handler failed."
      return trace === undefined ? { kind: "exception", message: text } : { kind: "exception", message: text, trace }
    }
  }
}

const errorCode = (error: Error): unknown => field(error, "code")

/** One worker thread with one handler module loaded. */
export class JsWorker {
  readonly worker: Worker
  /** Resolves with `undefined` once the module loaded, or with why it could not be loaded. */
  readonly ready: Promise<{ readonly message: string; readonly trace?: string } | undefined>
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
    env: Record<string, string> | undefined
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
    let resolveReady: (value: { readonly message: string; readonly trace?: string } | undefined) => void = () => {}
    this.ready = new Promise((resolve) => {
      resolveReady = resolve
    })
    for (const stream of [worker.stdout, worker.stderr]) {
      const splitter = new LineSplitter((line) => this.active?.collector.push(line))
      stream.setEncoding("utf8")
      stream.on("data", (chunk: string) => splitter.write(chunk))
    }
    worker.on("message", (message: unknown) => {
      if (typeof message !== "object" || message === null) return
      const type = field(message, "type")
      if (type === "ready") {
        resolveReady(undefined)
      } else if (type === "loadError") {
        const reply = toReply(message)
        resolveReady(reply.kind === "exception" ? reply : { message: "The handler could not be loaded." })
      } else if (type === "log") {
        const active = this.active
        const text = str(field(message, "message"))
        const timestamp = field(message, "timestamp")
        if (active !== undefined && field(message, "id") === active.id && text !== undefined) {
          active.collector.push(text, typeof timestamp === "number" ? timestamp : Date.now())
        }
      } else if (type === "result") {
        const active = this.active
        if (active !== undefined && field(message, "id") === active.id) {
          this.active = undefined
          active.finish(toReply(message))
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
        const died: Extract<Reply, { readonly kind: "died" }> = error === undefined
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
  begin(req: RunRequest, collector: LogCollector, finish: (reply: Reply) => void): void {
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
export class JsPool {
  private readonly idle = new Map<string, Array<JsWorker>>()
  private readonly all = new Set<JsWorker>()
  private closed = false

  /** The pool key of a handler under a memory cap and environment. */
  static key(handler: PreparedHandler, memoryMb: number, env: Readonly<Record<string, string>> | undefined): string {
    return JSON.stringify([handler.dir, handler.entry, memoryMb, env ?? null])
  }

  /** Starts a new worker for a handler. */
  spawn(handler: PreparedHandler, memoryMb: number, env: Readonly<Record<string, string>> | undefined): JsWorker {
    if (this.closed) throw new Error("The handler runtime is shut down.")
    const worker = new JsWorker(
      JsPool.key(handler, memoryMb, env),
      handler.dir,
      `${handler.dir}/${handler.entry}`,
      handler.entry,
      memoryMb,
      env === undefined || Object.keys(env).length === 0 ? undefined : { ...env }
    )
    this.all.add(worker)
    void worker.gone.then(() => this.all.delete(worker))
    return worker
  }

  /** An idle worker for the key, or a new one. */
  acquire(handler: PreparedHandler, memoryMb: number, env: Readonly<Record<string, string>> | undefined): JsWorker {
    const idle = this.idle.get(JsPool.key(handler, memoryMb, env))
    while (idle !== undefined && idle.length > 0) {
      const worker = idle.pop()
      if (worker !== undefined && !worker.dead) return worker
    }
    return this.spawn(handler, memoryMb, env)
  }

  /** Takes a worker back after a call: kept warm if it is healthy and there is room, else stopped. */
  settle(worker: JsWorker): void {
    if (worker.dead) return
    if (worker.busy || this.closed) {
      void worker.terminate()
      return
    }
    const idle = this.idle.get(worker.key) ?? []
    if (idle.length >= maxIdlePerKey) {
      void worker.terminate()
      return
    }
    idle.push(worker)
    this.idle.set(worker.key, idle)
    // An idle worker must not keep the process alive.
    worker.worker.unref()
  }

  /** Stops every worker of one prepared handler. */
  release(dir: string): Promise<void> {
    const stopping: Array<Promise<void>> = []
    for (const worker of this.all) if (worker.dir === dir) stopping.push(worker.terminate())
    for (const [key, idle] of this.idle) {
      const kept = idle.filter((worker) => worker.dir !== dir)
      if (kept.length === 0) this.idle.delete(key)
      else this.idle.set(key, kept)
    }
    return Promise.all(stopping).then(() => undefined)
  }

  /** Stops every worker and waits until all threads have exited. */
  shutdown(): Promise<void> {
    this.closed = true
    this.idle.clear()
    return Promise.all(Array.from(this.all, (worker) => worker.terminate())).then(() => undefined)
  }
}

/** Loads a handler in a fresh worker; the worker joins the pool if it loads. */
export const loadJavaScript = (
  pool: JsPool,
  handler: PreparedHandler,
  memoryMb: number,
  timeoutMillis: number
): Promise<{ readonly message: string; readonly trace?: string } | undefined> => {
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

const outcomeOf = (reply: Reply, req: RunRequest, collector: LogCollector): RunOutcome => {
  const logs = collector.close()
  switch (reply.kind) {
    case "ok":
      return { status: "Completed", response: JSON.parse(reply.json), logs }
    case "notJson":
      return failed(logs, notSerialisableMessage(reply.reason))
    case "tooLarge":
      return failed(logs, responseTooLargeMessage(reply.bytes, req.responseSizeLimitBytes))
    case "exception":
    case "died":
      return failed(logs, reply.message, reply.trace)
  }
}

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
          worker.begin(req, collector, (reply) => resume(Effect.succeed(outcomeOf(reply, req, collector))))
        }),
      // A worker still busy (the call timed out or was interrupted) is terminated by `settle`.
      (worker) => Effect.sync(() => typeof worker === "string" ? undefined : pool.settle(worker))
    ))
