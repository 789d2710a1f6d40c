/**
 * The emulator's handler runtime: deploy-time validation of a function's code bundle, and calls run for
 * real — Python handlers in warm `python3` runners (one interpreter imports a handler once and serves
 * many calls), JavaScript handlers in warm worker threads, and handlers registered from code in-process.
 *
 * Resolution of a bundle in `prepare`, given `functionPath` (default `handler.py`):
 * - `inprocess:NAME` selects a handler registered with `registerInProcess(NAME, ...)`; the bundle is
 *   not used.
 * - A file at `functionPath` is the handler: Python (it must end in `.py` and define a top-level
 *   `handle` whose arguments are among `data, client, secrets, function_call_info`), or JavaScript if
 *   it ends in `.js`, `.mjs` or `.cjs`.
 * - Otherwise a `handler.js` or `handler.mjs` beside `functionPath`, then at the root, is a JavaScript
 *   handler (the emulator's extension): it must export `handle` (or a default export with `handle`),
 *   called as `handle({ data, secrets, functionCallInfo })`, sync or async. A `.js` file in a bundle
 *   without a root `package.json` is loaded as ESM when it looks like ESM, else as CommonJS.
 * - Otherwise the deployment fails with "No file at {functionPath}".
 *
 * @since 0.1.0
 */
import type { Scope } from "effect"
import { Context, Effect, Layer } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { inProcessPrefix, runInProcess } from "./runtime/inprocess.js"
import { JsPool, loadJavaScript, runJavaScript } from "./runtime/javascript.js"
import { checkPythonSource, PythonPool, resolveInterpreter, runnerScript, runPython } from "./runtime/python.js"
import type { CodeBundle, InProcessHandler, PreparedHandler, RunOutcome, RunRequest } from "./runtime/types.js"
import { DeployProblem, deployProblem, failed } from "./runtime/types.js"
import { normalisePath } from "./runtime/zip.js"

export type {
  /** An unzipped code bundle: POSIX path inside the zip to the file's bytes. */
  CodeBundle,
  /** The `function_call_info` a handler receives. */
  FunctionCallInfo,
  /** The language a prepared handler runs in. */
  HandlerKind,
  /** A handler run in-process, registered from code. */
  InProcessHandler,
  /** What an in-process handler receives. */
  InProcessInput,
  /** One printed line with its timestamp. */
  LogLine,
  /** A validated, extracted handler. */
  PreparedHandler,
  /** How a call ended. */
  RunOutcome,
  /** One call of a prepared handler. */
  RunRequest
} from "./runtime/types.js"
export {
  /** Why a function could not be deployed. */
  DeployProblem
} from "./runtime/types.js"
export {
  /** The default caps on a bundle's size. */
  defaultZipLimits,
  /** Unzips a bundle, refusing zip-slip paths and bundles over the caps. */
  unzipBundle,
  /** Caps on what a bundle may hold. */
  type ZipLimits
} from "./runtime/zip.js"

/** The handler runtime the emulator's server calls to deploy and run functions. */
export class HandlerRuntime extends Context.Tag("@effect-cdf/emulator/HandlerRuntime")<
  HandlerRuntime,
  HandlerRuntime.Service
>() {}

/** The memory cap and environment the calls of a prepared handler will run with, to start a runner for. */
export interface WarmFor {
  readonly memoryMb: number
  readonly envVars?: Readonly<Record<string, string>> | undefined
}

/** The handler runtime's service and options. */
export declare namespace HandlerRuntime {
  /** The handler runtime's operations. */
  export interface Service {
    /** Validates a bundle and extracts it to a work directory, or says why it cannot be deployed. */
    readonly prepare: (
      functionId: number,
      bundle: CodeBundle,
      functionPath?: string,
      warm?: WarmFor
    ) => Effect.Effect<PreparedHandler, DeployProblem>
    /** Runs one call. Never fails; interruption kills the worker or process. */
    readonly run: (req: RunRequest) => Effect.Effect<RunOutcome>
    /** Registers a handler run in-process, selected by the function path `inprocess:NAME`. */
    readonly registerInProcess: (name: string, handler: InProcessHandler) => Effect.Effect<void>
    /** Stops a prepared handler's warm workers and deletes its files (when its function is deleted). */
    readonly release: (handler: PreparedHandler) => Effect.Effect<void>
  }

  /** How the runtime is set up. */
  export interface Options {
    /** The directory work directories are made in; the default is the OS temp directory. */
    readonly workDir?: string
    /** The Python interpreter command; the default is `python3`. */
    readonly python?: string
    /** How long a JavaScript handler may take to load at deploy time; the default is 10 s. */
    readonly loadTimeoutMillis?: number
    /** The memory cap of the worker that loads a JavaScript handler at deploy time; the default is 1536 MB. */
    readonly defaultMemoryMb?: number
  }
}

const javascriptExtensions = [".js", ".mjs", ".cjs"]

const looksLikeEsm = (source: string): boolean =>
  /^[ \t]*(?:import[ \t]*[\w{*"'`]|export[ \t]|import\.meta)/m.test(source) ||
  !/\b(?:module\.exports|exports\.\w+|require\()/.test(source)

const describeLoadProblem = (problem: { readonly message: string; readonly trace?: string }): string =>
  problem.trace === undefined || !problem.trace.includes(problem.message)
    ? [problem.message, problem.trace].filter((part) => part !== undefined).join("\n")
    : problem.trace

/** Finds the handler file in a bundle, or says why there is none. */
const resolveEntry = (
  bundle: CodeBundle,
  functionPath: string
): { readonly kind: "python" | "javascript"; readonly entry: string } | DeployProblem => {
  if (bundle.files.has(functionPath)) {
    if (javascriptExtensions.some((ext) => functionPath.endsWith(ext))) {
      return { kind: "javascript", entry: functionPath }
    }
    if (functionPath.endsWith(".py")) return { kind: "python", entry: functionPath }
    return deployProblem(`The function path ${functionPath} must name a .py file.`)
  }
  const folder = path.posix.dirname(functionPath)
  const candidates = [folder, "."].flatMap((dir) =>
    ["handler.js", "handler.mjs"].map((name) => dir === "." ? name : `${dir}/${name}`)
  )
  const entry = candidates.find((candidate) => bundle.files.has(candidate))
  return entry === undefined
    ? deployProblem(`No file at ${functionPath} in the code bundle (nor a handler.js or handler.mjs).`)
    : { kind: "javascript", entry }
}

/** Makes the handler runtime; its work directory, workers and processes go when the scope closes. */
export const make = (options: HandlerRuntime.Options = {}): Effect.Effect<HandlerRuntime.Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const root = yield* Effect.acquireRelease(
      Effect.promise(async () => {
        const base = options.workDir ?? os.tmpdir()
        await fs.mkdir(base, { recursive: true })
        const dir = await fs.mkdtemp(path.join(base, "effect-cdf-runtime-"))
        await fs.writeFile(path.join(dir, "runner.py"), runnerScript)
        return dir
      }),
      (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
    )
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() => new JsPool()),
      (pool) => Effect.promise(() => pool.shutdown())
    )
    const runnerPath = path.join(root, "runner.py")
    let pythonPool: Promise<PythonPool | null> | undefined
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        const pool = await pythonPool
        await pool?.shutdown()
      })
    )
    const python = Effect.promise(() => {
      pythonPool ??= resolveInterpreter(options.python ?? "python3").then((interpreter) =>
        interpreter === null ? null : new PythonPool(interpreter, runnerPath)
      )
      return pythonPool
    })
    /** Stops the warm workers and runners of a handler directory, then deletes it. */
    const releaseDir = async (dir: string) => {
      const pythonRunners = await pythonPool
      await Promise.all([pool.release(dir), pythonRunners?.release(dir)])
      await fs.rm(dir, { recursive: true, force: true })
    }
    const inProcess = new Map<string, InProcessHandler>()
    const loadTimeoutMillis = options.loadTimeoutMillis ?? 10_000
    const defaultMemoryMb = options.defaultMemoryMb ?? 1536
    let sequence = 0

    const io = <A>(what: string, run: () => Promise<A>): Effect.Effect<A, DeployProblem> =>
      Effect.tryPromise({
        try: run,
        catch: (error) => deployProblem(`${what}: ${error instanceof Error ? error.message : String(error)}`)
      })

    const extract = (dir: string, bundle: CodeBundle) =>
      io("Could not extract the code bundle", async () => {
        await fs.mkdir(dir, { recursive: true })
        for (const [name, bytes] of bundle.files) {
          const target = path.join(dir, ...name.split("/"))
          await fs.mkdir(path.dirname(target), { recursive: true })
          await fs.writeFile(target, bytes)
        }
      })

    const checkJavaScript = (handler: PreparedHandler, bundle: CodeBundle) =>
      Effect.gen(function*() {
        const decideType = handler.entry.endsWith(".js") && !bundle.files.has("package.json")
        const source = new TextDecoder().decode(bundle.files.get(handler.entry))
        const types: ReadonlyArray<string> = looksLikeEsm(source) ? ["module", "commonjs"] : ["commonjs", "module"]
        const writeType = (type: string) =>
          io("Could not write package.json", () =>
            fs.writeFile(path.join(handler.dir, "package.json"), JSON.stringify({ type })))
        if (decideType) {
          yield* writeType(types[0])
        }
        const first = yield* Effect.promise(() =>
          loadJavaScript(pool, handler, defaultMemoryMb, loadTimeoutMillis)
        )
        if (first === undefined) return
        if (decideType) {
          yield* writeType(types[1])
          const second = yield* Effect.promise(() => loadJavaScript(pool, handler, defaultMemoryMb, loadTimeoutMillis))
          if (second === undefined) return
        }
        return yield* Effect.fail(deployProblem(describeLoadProblem(first)))
      })

    const prepare = Effect.fn("HandlerRuntime.prepare")(
      function*(functionId: number, bundle: CodeBundle, functionPath: string = "handler.py", warm?: WarmFor) {
        if (functionPath.startsWith(inProcessPrefix)) {
          const name = functionPath.slice(inProcessPrefix.length)
          if (!inProcess.has(name)) {
            return yield* Effect.fail(
              deployProblem(`No in-process handler named ${JSON.stringify(name)} is registered.`)
            )
          }
          const handler: PreparedHandler = {
            kind: "javascript",
            entry: functionPath,
            dir: "",
            functionId,
            functionPath
          }
          return handler
        }
        const normalised = normalisePath(functionPath)
        if ("reason" in normalised) {
          return yield* Effect.fail(deployProblem(`Invalid function path: ${normalised.reason}.`))
        }
        const resolved = resolveEntry(bundle, normalised.path)
        if (resolved instanceof DeployProblem) return yield* Effect.fail(resolved)
        const pythonPool = resolved.kind === "python" ? yield* python : null
        if (resolved.kind === "python") {
          const source = bundle.files.get(resolved.entry) ?? new Uint8Array()
          yield* checkPythonSource(pythonPool?.python ?? null, source, resolved.entry)
        }
        sequence += 1
        const dir = path.join(root, `fn-${functionId}-${sequence}`)
        const handler: PreparedHandler = {
          kind: resolved.kind,
          entry: resolved.entry,
          dir,
          functionId,
          functionPath: normalised.path
        }
        const remove = Effect.promise(() => releaseDir(dir))
        yield* extract(dir, bundle).pipe(Effect.tapError(() => remove))
        if (resolved.kind === "javascript") {
          yield* checkJavaScript(handler, bundle).pipe(Effect.tapError(() => remove))
        }
        // The first call need not wait for Python to start.
        if (warm !== undefined) pythonPool?.warm(handler, warm.memoryMb, warm.envVars)
        return handler
      }
    )

    const run = (req: RunRequest): Effect.Effect<RunOutcome> => {
      const handler = req.handler
      const outcome = handler.entry.startsWith(inProcessPrefix)
        ? Effect.suspend(() => {
          const name = handler.entry.slice(inProcessPrefix.length)
          return runInProcess(inProcess.get(name), name, req)
        })
        : handler.kind === "python"
        ? Effect.flatMap(python, (pythonPool) => runPython(pythonPool, req))
        : runJavaScript(pool, req)
      return outcome.pipe(
        Effect.catchAllDefect((defect) =>
          Effect.succeed(failed([], `The emulator's handler runtime failed: ${String(defect)}`))
        ),
        Effect.withSpan("HandlerRuntime.run", { attributes: { functionId: handler.functionId, kind: handler.kind } })
      )
    }

    const registerInProcess = (name: string, handler: InProcessHandler): Effect.Effect<void> =>
      Effect.sync(() => {
        inProcess.set(name, handler)
      })

    const release = (handler: PreparedHandler): Effect.Effect<void> =>
      handler.dir === "" || !handler.dir.startsWith(root)
        ? Effect.void
        : Effect.promise(() => releaseDir(handler.dir))

    return HandlerRuntime.of({ prepare, run, registerInProcess, release })
  })

/** The handler runtime with default options; it cleans up its work directory, workers and processes on release. */
export const layer: Layer.Layer<HandlerRuntime> = Layer.scoped(HandlerRuntime, make())

/** The handler runtime with options, e.g. `{ workDir }`. */
export const layerWith = (options: HandlerRuntime.Options): Layer.Layer<HandlerRuntime> =>
  Layer.scoped(HandlerRuntime, make(options))
