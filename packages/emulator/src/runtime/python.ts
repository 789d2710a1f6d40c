/**
 * Python handlers: the deploy-time check of `handle` (with Python's own `ast`), and calls run in a
 * `python3` child process per call, in its own process group so a timeout or an interruption can kill
 * the handler and anything it started.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { ChildProcess } from "node:child_process"
import { spawn } from "node:child_process"
import { Socket } from "node:net"
import { LineSplitter, type LogCollector } from "./logs.js"
import { runWithTimeout } from "./timeout.js"
import type { DeployProblem, RunOutcome, RunRequest } from "./types.js"
import {
  deployProblem,
  failed,
  memoryExceededMessage,
  notSerialisableMessage,
  responseTooLargeMessage
} from "./types.js"

/** The arguments `handle` may take, as in the Python SDK's `ALLOWED_HANDLE_ARGS`. */
export const allowedHandleArgs: ReadonlyArray<string> = ["data", "client", "secrets", "function_call_info"]

/** How long the grace between SIGTERM and SIGKILL is. */
export const killGraceMillis = 250

/**
 * Reads the module source on stdin and prints one JSON line: `{"ok": true}` or `{"ok": false, "reason"}`.
 * The rules are the Python SDK's `validate_function_folder`: the last top-level `handle` wins; a `def`
 * may only take the allowed arguments; `handle = ...` and `handle: T = ...` are accepted as they are.
 */
const checkScript = String.raw`
import ast, json, sys, traceback
ALLOWED = ["data", "client", "secrets", "function_call_info"]
path = sys.argv[1]
def reply(reason=None):
    sys.stdout.write(json.dumps({"ok": reason is None, "reason": reason}))
try:
    tree = ast.parse(sys.stdin.buffer.read(), filename=path)
except SyntaxError as e:
    reply("".join(traceback.format_exception_only(type(e), e)).strip())
    sys.exit(0)
found = None
for node in tree.body:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "handle":
        a = node.args
        found = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "handle" for t in node.targets):
        found = True
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "handle" and node.value is not None:
        found = True
if found is None:
    reply(f"{path} must contain a function named 'handle'.")
elif isinstance(found, list):
    bad = [arg for arg in found if arg not in ALLOWED]
    if bad:
        reply(f"Arguments {bad} to the function 'handle' in {path} are not allowed. Allowed arguments: {ALLOWED}.")
    else:
        reply()
else:
    reply()
`

/**
 * The runner: reads `{dir, entry, data, secrets, callInfo, limit, memoryMb}` from stdin, imports the
 * handler module, calls `handle` with the arguments it names, and writes one JSON result to fd 3, so
 * nothing the handler prints can corrupt it. It prints nothing of its own.
 */
export const runnerScript = String.raw`
import asyncio, importlib, importlib.util, inspect, json, os, sys, traceback

def _main():
    os.set_inheritable(3, False)
    result = os.fdopen(3, "wb")
    def send(obj=None, raw=None):
        result.write(raw if raw is not None else json.dumps(obj).encode("utf-8"))
        result.flush()
        result.close()
    config = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    code_dir, entry, limit, memory_mb = config["dir"], config["entry"], config["limit"], config["memoryMb"]
    if memory_mb:
        try:
            import resource
            cap = int(memory_mb) * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        except (ImportError, ValueError, OSError):
            pass
    os.chdir(code_dir)
    handler_dir = os.path.dirname(os.path.join(code_dir, entry))
    del sys.path[0]
    sys.path[0:0] = [code_dir] + ([handler_dir] if handler_dir != code_dir else [])
    sys.argv = [os.path.join(code_dir, entry)]
    try:
        stem = entry[:-3] if entry.endswith(".py") else entry
        parts = stem.split("/")
        if all(part.isidentifier() for part in parts):
            module = importlib.import_module(".".join(parts))
        else:
            spec = importlib.util.spec_from_file_location("handler", os.path.join(code_dir, entry))
            module = importlib.util.module_from_spec(spec)
            sys.modules["handler"] = module
            spec.loader.exec_module(module)
        handle = getattr(module, "handle", None)
        if not callable(handle):
            return send({"kind": "exception", "message": f"AttributeError: {entry} has no callable 'handle'", "trace": None})
        available = {"data": config["data"], "client": None, "secrets": config["secrets"], "function_call_info": config["callInfo"]}
        try:
            params = inspect.signature(handle).parameters
        except (TypeError, ValueError):
            params = None
        if params is None or any(p.kind == p.VAR_KEYWORD for p in params.values()):
            kwargs = available
        else:
            kwargs = {k: v for k, v in available.items() if k in params}
        value = handle(**kwargs)
        if inspect.isawaitable(value):
            async def wait(awaitable):
                return await awaitable
            value = asyncio.run(wait(value))
    except MemoryError:
        return send({"kind": "memory", "trace": traceback.format_exc()})
    except BaseException as e:
        tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
        return send({"kind": "exception", "message": f"{type(e).__name__}: {e}", "trace": "".join(traceback.format_exception(type(e), e, tb))})
    try:
        payload = json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError) as e:
        return send({"kind": "notJson", "reason": f"{type(e).__name__}: {e}"})
    if len(payload) > limit:
        return send({"kind": "tooLarge", "bytes": len(payload)})
    send(raw=b'{"kind":"ok","response":' + payload + b"}")

try:
    _main()
finally:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        # Lingering threads of the handler must not keep the call alive: the call is over.
        os._exit(0)
`

/** Finds the real interpreter behind `python3` (skipping shims on every call), or `null` if there is none. */
export const resolveInterpreter = (command: string): Promise<string | null> =>
  new Promise((resolve) => {
    let out = ""
    const child = spawn(command, ["-c", "import sys; sys.stdout.write(sys.executable)"], {
      stdio: ["ignore", "pipe", "ignore"]
    })
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      out += chunk
    })
    child.on("error", () => resolve(null))
    child.on("close", (code) => resolve(code === 0 && out.trim() !== "" ? out.trim() : null))
  })

/** Checks that a Python module defines a usable top-level `handle`. */
export const checkPythonSource = (
  python: string | null,
  source: Uint8Array,
  path: string
): Effect.Effect<void, DeployProblem> =>
  python === null ? checkWithoutPython(new TextDecoder().decode(source), path) : Effect.flatMap(
    Effect.promise(() => runCheck(python, source, path)),
    (reason) => reason === null ? Effect.void : Effect.fail(deployProblem(reason))
  )

const runCheck = (python: string, source: Uint8Array, path: string): Promise<string | null> =>
  new Promise((resolve) => {
    let out = ""
    let err = ""
    const child = spawn(python, ["-c", checkScript, path], { stdio: ["pipe", "pipe", "pipe"] })
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    child.stdout.setEncoding("utf8")
    child.stderr.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      out += chunk
    })
    child.stderr.on("data", (chunk: string) => {
      err += chunk
    })
    child.stdin.on("error", () => undefined)
    child.stdin.end(source)
    child.on("error", (error) => {
      clearTimeout(timer)
      resolve(`Could not run the Python check: ${error.message}`)
    })
    child.on("close", () => {
      clearTimeout(timer)
      try {
        const reply: unknown = JSON.parse(out)
        if (typeof reply === "object" && reply !== null && "ok" in reply && "reason" in reply) {
          resolve(reply.ok === true ? null : String(reply.reason))
          return
        }
      } catch {
        // Reported below.
      }
      resolve(`The Python check of ${path} failed: ${err.trim() || out.trim() || "no output"}`)
    })
  })

/** A careful regex check for hosts without Python: the last top-level `handle` wins. */
const checkWithoutPython = (source: string, path: string): Effect.Effect<void, DeployProblem> => {
  const pattern =
    /^(?:async[ \t]+def[ \t]+handle[ \t]*\(([^)]*)\)|def[ \t]+handle[ \t]*\(([^)]*)\)|handle[ \t]*(?::[^=\n]*)?=(?!=))/gm
  let last: { readonly args: string | undefined } | undefined
  for (const match of source.matchAll(pattern)) last = { args: match[1] ?? match[2] }
  if (last === undefined) return Effect.fail(deployProblem(`${path} must contain a function named 'handle'.`))
  if (last.args === undefined) return Effect.void
  const names = last.args
    .split(",")
    .map((arg) => arg.replace(/#.*$/gm, "").split(/[:=]/)[0].trim().replace(/^\*+/, ""))
    .filter((name) => name !== "" && name !== "/")
  const bad = names.filter((name) => !allowedHandleArgs.includes(name))
  return bad.length === 0 ? Effect.void : Effect.fail(
    deployProblem(
      `Arguments ${JSON.stringify(bad)} to the function 'handle' in ${path} are not allowed.` +
        ` Allowed arguments: ${JSON.stringify(allowedHandleArgs)}.`
    )
  )
}

/** The most environments a spare runner is kept for. */
export const maxSpares = 8

/**
 * The Python runner processes, live and spare. A spare is a runner already started (interpreter up,
 * runner imports done) and blocked reading its call from stdin; it keeps Python's start-up out of a
 * call's latency. Spares are kept per environment, since the environment is fixed at spawn; the code
 * directory and the memory cap are applied by the runner once the call arrives.
 */
export class PythonProcesses {
  private readonly live = new Set<PythonProcess>()
  private readonly spares = new Map<string, PythonProcess>()
  private closed = false

  constructor(readonly python: string, private readonly runnerPath: string, private readonly cwd: string) {}

  private spawn(env: Readonly<Record<string, string>> | undefined): PythonProcess {
    const proc = new PythonProcess(this.python, this.runnerPath, this.cwd, env)
    this.live.add(proc)
    void proc.closed.then(() => this.live.delete(proc))
    return proc
  }

  /** Makes sure a spare runner is waiting for calls with this environment. */
  warm(env: Readonly<Record<string, string>> | undefined): void {
    const key = JSON.stringify(env ?? {})
    if (this.closed || this.spares.get(key)?.waiting === true) return
    this.spares.delete(key)
    while (this.spares.size >= maxSpares) {
      const [oldest] = this.spares
      if (oldest === undefined) break
      this.spares.delete(oldest[0])
      void oldest[1].kill()
    }
    const spare = this.spawn(env)
    spare.idle()
    this.spares.set(key, spare)
  }

  /** A runner for one call (a spare when one is waiting), with a new spare started behind it. */
  take(env: Readonly<Record<string, string>> | undefined): PythonProcess {
    if (this.closed) throw new Error("The handler runtime is shut down.")
    const key = JSON.stringify(env ?? {})
    const spare = this.spares.get(key)
    this.spares.delete(key)
    const proc = spare !== undefined && spare.waiting ? spare : this.spawn(env)
    if (spare !== undefined && proc !== spare) void spare.kill()
    this.warm(env)
    return proc
  }

  /** Kills every process, spare or running, and waits until they are gone. */
  killAll(): Promise<void> {
    this.closed = true
    this.spares.clear()
    return Promise.all(Array.from(this.live, (proc) => proc.kill())).then(() => undefined)
  }
}

interface Closed {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly spawnError?: string
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

/** One runner process: its output, its result and how it ended. */
export class PythonProcess {
  readonly child: ChildProcess
  readonly closed: Promise<Closed>
  private readonly exited: Promise<void>
  private readonly result: Array<Buffer> = []
  private readonly early: Array<string> = []
  private resultBytes = 0
  private resultOverflow = false
  private collector: LogCollector | undefined
  private req: RunRequest | undefined
  private started = false

  constructor(python: string, runnerPath: string, cwd: string, env: Readonly<Record<string, string>> | undefined) {
    this.child = spawn(python, ["-u", runnerPath], {
      cwd,
      // Its own process group: killing `-pid` reaches whatever the handler started.
      detached: true,
      stdio: ["pipe", "pipe", "pipe", "pipe"],
      env: {
        ...process.env,
        ...env,
        PYTHONUNBUFFERED: "1",
        PYTHONIOENCODING: "utf-8",
        PYTHONDONTWRITEBYTECODE: "1"
      }
    })
    const child = this.child
    const push = (line: string): void => {
      if (this.collector !== undefined) this.collector.push(line)
      else if (this.early.length < 1000) this.early.push(line)
    }
    const lines = (stream: NodeJS.ReadableStream | null): LineSplitter | undefined => {
      if (stream === null) return undefined
      const splitter = new LineSplitter(push)
      stream.setEncoding("utf8")
      stream.on("data", (chunk: string) => splitter.write(chunk))
      return splitter
    }
    const out = lines(child.stdout)
    const err = lines(child.stderr)
    const resultStream = child.stdio[3]
    if (resultStream instanceof Socket) {
      resultStream.on("data", (chunk: Buffer) => {
        this.resultBytes += chunk.byteLength
        const cap = (this.req?.responseSizeLimitBytes ?? 0) + 64 * 1024
        if (this.resultBytes > cap) this.resultOverflow = true
        else this.result.push(chunk)
      })
      resultStream.on("error", () => undefined)
    }
    child.stdin?.on("error", () => undefined)
    this.exited = new Promise((resolve) => {
      child.on("exit", () => {
        // Whatever the handler left running in its group ends with the call.
        signalGroup(child, "SIGKILL")
        resolve()
      })
      child.on("error", () => resolve())
    })
    this.closed = new Promise((resolve) => {
      child.on("error", (error) => resolve({ code: null, signal: null, spawnError: error.message }))
      child.on("close", (code, signal) => {
        out?.flush()
        err?.flush()
        resolve({ code, signal })
      })
    })
  }

  /** Whether this is a live runner still waiting for its call. */
  get waiting(): boolean {
    return !this.started && this.child.exitCode === null && this.child.signalCode === null &&
      this.child.pid !== undefined
  }

  /** Lets a waiting spare not keep the Node process alive. */
  idle(): void {
    setRef(this.child, false)
  }

  /** Sends the call to the runner. */
  begin(req: RunRequest, collector: LogCollector): void {
    this.started = true
    this.req = req
    this.collector = collector
    for (const line of this.early.splice(0)) collector.push(line)
    setRef(this.child, true)
    this.child.stdin?.end(JSON.stringify({
      dir: req.handler.dir,
      entry: req.handler.entry,
      data: req.data === undefined ? {} : req.data,
      secrets: req.secrets,
      callInfo: req.callInfo,
      limit: req.responseSizeLimitBytes,
      memoryMb: req.memoryMb
    }))
  }

  /** SIGTERM to the group, SIGKILL after a short grace; resolves once the process has exited. */
  kill(): Promise<void> {
    const child = this.child
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return this.exited
    signalGroup(child, "SIGTERM")
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), killGraceMillis)
    return this.exited.then(() => clearTimeout(timer))
  }

  /** The outcome once the process has closed. */
  outcome(closed: Closed, req: RunRequest, collector: LogCollector): RunOutcome {
    const logs = collector.close()
    if (closed.spawnError !== undefined) return failed(logs, `Could not start Python: ${closed.spawnError}`)
    if (this.resultOverflow) {
      return failed(logs, responseTooLargeMessage(this.resultBytes, req.responseSizeLimitBytes))
    }
    const text = Buffer.concat(this.result).toString("utf8")
    if (text === "") {
      return failed(
        logs,
        closed.signal === null
          ? `The function's process exited with code ${closed.code} before returning a result.`
          : `The function's process was killed by ${closed.signal} before returning a result.`
      )
    }
    let reply: unknown
    try {
      reply = JSON.parse(text)
    } catch {
      return failed(logs, "The function's process returned a malformed result.")
    }
    if (typeof reply !== "object" || reply === null || !("kind" in reply)) {
      return failed(logs, "The function's process returned a malformed result.")
    }
    const field = (name: string): string | undefined => {
      const value: unknown = name in reply ? Reflect.get(reply, name) : undefined
      return typeof value === "string" ? value : undefined
    }
    switch (reply.kind) {
      case "ok":
        return { status: "Completed", response: "response" in reply ? reply.response : null, logs }
      case "exception":
        return failed(logs, field("message") ?? "The function raised an exception.", field("trace"))
      case "memory":
        return failed(logs, memoryExceededMessage(req.memoryMb), field("trace"))
      case "notJson":
        return failed(logs, notSerialisableMessage(field("reason") ?? "unknown reason"))
      case "tooLarge": {
        const bytes = "bytes" in reply && typeof reply.bytes === "number" ? reply.bytes : this.resultBytes
        return failed(logs, responseTooLargeMessage(bytes, req.responseSizeLimitBytes))
      }
      default:
        return failed(logs, "The function's process returned a malformed result.")
    }
  }
}

const signalGroup = (child: ChildProcess, signal: NodeJS.Signals): void => {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // The group is already gone.
  }
}

/** Runs one call of a Python handler. Never fails; a timeout or an interruption kills the process group. */
export const runPython = (processes: PythonProcesses | null, req: RunRequest): Effect.Effect<RunOutcome> =>
  processes === null
    ? Effect.succeed(failed([], "Python handlers need python3, which was not found on this host."))
    : runWithTimeout(req, (collector) =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          try {
            const proc = processes.take(req.envVars)
            proc.begin(req, collector)
            return proc
          } catch (error) {
            return `Could not start Python: ${error instanceof Error ? error.message : String(error)}`
          }
        }),
        (proc) =>
          typeof proc === "string"
            ? Effect.succeed(failed([], proc))
            : Effect.map(Effect.promise(() => proc.closed), (closed) => proc.outcome(closed, req, collector)),
        (proc) => typeof proc === "string" ? Effect.void : Effect.promise(() => proc.kill())
      ))
