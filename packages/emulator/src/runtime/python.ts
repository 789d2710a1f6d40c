/**
 * Python handlers, run by warm interpreters: one `python3` runner per prepared handler (and memory cap
 * and environment) imports the handler once and serves many calls over a pipe, so a call does not pay a
 * process start. Each runner is in its own process group, so a timeout or an interruption kills the
 * handler and anything it started; the next call gets a fresh runner.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { ChildProcess } from "node:child_process"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { Socket } from "node:net"
import { LineSplitter, type LogCollector } from "./logs.js"
import { type PooledWorker, WarmPool } from "./pool.js"
import { runnerScript } from "./python/runner.js"
import { decodeReplyText, malformedReply, outcomeOf, type Reply } from "./replies.js"
import { runWithTimeout } from "./timeout.js"
import type { PreparedHandler, RunOutcome, RunRequest } from "./types.js"
import { failed, responseTooLargeMessage } from "./types.js"

export { allowedHandleArgs, checkPythonSource, resolveInterpreter } from "./python/check.js"
export { runnerScript }

/** How long the grace between SIGTERM and SIGKILL is. */
export const killGraceMillis = 250

/** The most idle runners kept per handler, memory cap and environment. */
export const maxIdlePerKey = 24

const signalGroup = (child: ChildProcess, signal: NodeJS.Signals): void => {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // The group is already gone.
  }
}

const setRef = (child: ChildProcess, ref: boolean): void => {
  if (ref) child.ref()
  else child.unref()
  for (const stream of child.stdio) {
    if (stream instanceof Socket) {
      if (ref) stream.ref()
      else stream.unref()
    }
  }
}

interface Closed {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly spawnError?: string
}

/** The call a runner is serving: what has arrived of it so far. */
interface Active {
  readonly req: RunRequest
  readonly collector: LogCollector
  readonly finish: (outcome: RunOutcome) => void
  reply: Reply | "malformed" | "overflow" | undefined
  outDone: boolean
  errDone: boolean
}

/** One warm runner process. */
export class PythonWorker implements PooledWorker {
  readonly child: ChildProcess
  readonly gone: Promise<void>
  /** The pipe calls are sent on (fd 4 of the runner). */
  private readonly calls: NodeJS.WritableStream
  private readonly marker = `\u001e${randomBytes(12).toString("hex")}\u001e`
  private active: Active | undefined
  private result: Array<Buffer> = []
  private resultBytes = 0
  readonly dir: string
  dead = false

  constructor(
    readonly key: string,
    readonly handler: PreparedHandler,
    private readonly memoryMb: number,
    python: string,
    runnerPath: string,
    env: Readonly<Record<string, string>> | undefined
  ) {
    this.dir = handler.dir
    this.child = spawn(python, ["-u", runnerPath], {
      cwd: handler.dir,
      // Its own process group: killing `-pid` reaches whatever the handler started.
      detached: true,
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      env: { ...process.env, ...env, PYTHONUNBUFFERED: "1", PYTHONIOENCODING: "utf-8", PYTHONDONTWRITEBYTECODE: "1" }
    })
    const child = this.child
    const callPipe = child.stdio[4]
    if (!(callPipe instanceof Socket)) throw new Error("The Python runner's call pipe is missing.")
    this.calls = callPipe
    const out = this.lines(child.stdout, "out")
    const err = this.lines(child.stderr, "err")
    const resultStream = child.stdio[3]
    if (resultStream instanceof Socket) {
      resultStream.on("data", (chunk: Buffer) => this.onResult(chunk))
      resultStream.on("error", () => undefined)
    }
    this.calls.on("error", () => undefined)
    this.gone = new Promise((resolve) => {
      let spawnError: string | undefined
      child.on("error", (error) => {
        spawnError = error.message
        this.dead = true
        resolve()
        this.closed({ code: null, signal: null, spawnError })
      })
      child.on("exit", () => {
        this.dead = true
        // Whatever the handler left running in its group ends with the runner.
        signalGroup(child, "SIGKILL")
      })
      child.on("close", (code, signal) => {
        out.flush()
        err.flush()
        this.dead = true
        this.closed({ code, signal })
        resolve()
      })
    })
  }

  /** Whether a call is running on this runner. */
  get busy(): boolean {
    return this.active !== undefined
  }

  unref(): void {
    setRef(this.child, false)
  }

  private lines(stream: NodeJS.ReadableStream | null, which: "out" | "err") {
    const splitter = new LineSplitter((line) => this.active?.collector.push(line))
    stream?.setEncoding("utf8")
    stream?.on("data", (chunk: string) => {
      let rest = chunk
      for (let at = rest.indexOf(this.marker); at !== -1; at = rest.indexOf(this.marker)) {
        splitter.write(rest.slice(0, at))
        splitter.flush()
        rest = rest.slice(at + this.marker.length)
        const active = this.active
        if (active !== undefined) {
          if (which === "out") active.outDone = true
          else active.errDone = true
          this.settleCall()
        }
      }
      splitter.write(rest)
    })
    return splitter
  }

  private onResult(chunk: Buffer): void {
    const active = this.active
    if (active === undefined) return
    this.resultBytes += chunk.byteLength
    // A JSON string of the response may take up to 6 bytes per byte of response, and the envelope is small.
    if (this.resultBytes > active.req.responseSizeLimitBytes * 6 + 64 * 1024) {
      active.reply = "overflow"
      void this.terminate()
      return
    }
    const newline = chunk.indexOf(0x0a)
    if (newline === -1) {
      this.result.push(chunk)
      return
    }
    this.result.push(chunk.subarray(0, newline))
    const text = Buffer.concat(this.result).toString("utf8")
    this.result = []
    const decoded = decodeReplyText(text)
    active.reply = decoded._tag === "Right" ? decoded.right : "malformed"
    this.settleCall()
  }

  /** Ends the call once its reply and the markers on both streams have arrived. */
  private settleCall(): void {
    const active = this.active
    if (active === undefined || active.reply === undefined || !active.outDone || !active.errDone) return
    this.active = undefined
    const reply = active.reply
    const logs = active.collector.close()
    if (reply === "malformed") {
      void this.terminate()
      active.finish(failed(logs, malformedReply))
    } else if (reply === "overflow") {
      active.finish(failed(logs, responseTooLargeMessage(this.resultBytes, active.req.responseSizeLimitBytes)))
    } else {
      // A runner that could not import the handler or ran out of memory ends itself after replying.
      if ("fatal" in reply && reply.fatal === true) void this.terminate()
      active.finish(outcomeOf(reply, active.req, logs))
    }
  }

  private closed(closed: Closed): void {
    const active = this.active
    if (active === undefined) return
    this.active = undefined
    const logs = active.collector.close()
    const reply = active.reply
    if (reply !== undefined && reply !== "malformed" && reply !== "overflow") {
      active.finish(outcomeOf(reply, active.req, logs))
    } else if (reply === "overflow") {
      active.finish(failed(logs, responseTooLargeMessage(this.resultBytes, active.req.responseSizeLimitBytes)))
    } else if (closed.spawnError !== undefined) {
      active.finish(failed(logs, `Could not start Python: ${closed.spawnError}`))
    } else {
      active.finish(failed(
        logs,
        closed.signal === null
          ? `The function's process exited with code ${closed.code} before returning a result.`
          : `The function's process was killed by ${closed.signal} before returning a result.`
      ))
    }
  }

  /** Sends one call to the runner; `finish` is called once with its outcome. */
  begin(req: RunRequest, collector: LogCollector, finish: (outcome: RunOutcome) => void): void {
    this.active = { req, collector, finish, reply: undefined, outDone: false, errDone: false }
    this.resultBytes = 0
    this.result = []
    setRef(this.child, true)
    this.calls.write(
      JSON.stringify({
        dir: this.handler.dir,
        entry: this.handler.entry,
        data: req.data === undefined ? {} : req.data,
        secrets: req.secrets,
        callInfo: req.callInfo,
        limit: req.responseSizeLimitBytes,
        memoryMb: this.memoryMb,
        marker: this.marker
      }) + "\n"
    )
  }

  /** SIGTERM to the group, SIGKILL after a short grace; resolves once the runner has exited. */
  terminate(): Promise<void> {
    const child = this.child
    this.active = undefined
    if (this.dead || child.pid === undefined) return this.gone
    this.dead = true
    signalGroup(child, "SIGTERM")
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), killGraceMillis)
    return this.gone.then(() => clearTimeout(timer))
  }
}

/** The warm runners of every prepared Python handler. */
export class PythonPool extends WarmPool<PythonWorker> {
  constructor(readonly python: string, runnerPath: string) {
    super(
      (key, handler, memoryMb, env) => new PythonWorker(key, handler, memoryMb, python, runnerPath, env),
      maxIdlePerKey
    )
  }
}

/** Runs one call of a Python handler. Never fails; a timeout or an interruption kills the runner's group. */
export const runPython = (pool: PythonPool | null, req: RunRequest): Effect.Effect<RunOutcome> =>
  pool === null
    ? Effect.succeed(failed([], "Python handlers need python3, which was not found on this host."))
    : runWithTimeout(req, (collector) =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          try {
            return pool.acquire(req.handler, req.memoryMb, req.envVars)
          } catch (error) {
            return `Could not start Python: ${error instanceof Error ? error.message : String(error)}`
          }
        }),
        (worker) =>
          typeof worker === "string"
            ? Effect.succeed(failed([], worker))
            : Effect.async<RunOutcome>((resume) => {
              worker.begin(req, collector, (outcome) => resume(Effect.succeed(outcome)))
            }),
        // A runner still busy (the call timed out or was interrupted) is stopped, and gone before the call ends.
        (worker) =>
          typeof worker === "string"
            ? Effect.void
            : worker.busy
            ? Effect.promise(() => worker.terminate())
            : Effect.sync(() => pool.settle(worker))
      ))
