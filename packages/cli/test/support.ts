/**
 * Helpers of the end-to-end tests: run the built `cdf-fn` in a child process, and an emulator in this
 * process for it to talk to.
 */
import { Emulator } from "@effect-cdf/emulator"
import type { Effect } from "effect"
import { ManagedRuntime, Redacted } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The executable as installed: the `bin` of package.json, over the bundle `pnpm build` writes. */
export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "bin", "cdf-fn.js")

/** The repository's `examples/` folder. */
export const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "examples")

/** What a finished `cdf-fn` run left. */
export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const TOOLKIT = /^(CDF_|IDP_)|^(LOGIN_FLOW|PROVIDER)$/

/** The environment without any setting that selects a target, and without colors. */
export const cleanEnv = (extra: Record<string, string> = {}): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("COGNITE_") && !TOOLKIT.test(key)) env[key] = value
  }
  return { ...env, NO_COLOR: "1", ...extra }
}

/** Starts `cdf-fn` with `args`; `stdin` is written to its standard input and closed. */
export const spawnCli = (args: ReadonlyArray<string>, env: Record<string, string>, stdin?: string): ChildProcess => {
  const child = spawn(process.execPath, [BIN, ...args], {
    env,
    stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"]
  })
  if (stdin !== undefined) child.stdin?.end(stdin)
  return child
}

/** Collects a child's output and exit code. */
export const finished = (child: ChildProcess): Promise<Run> =>
  new Promise((resolve, reject) => {
    let stdout = ""
    let stderr = ""
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

/** Runs `cdf-fn` to the end. */
export const cli = (args: ReadonlyArray<string>, env: Record<string, string>, stdin?: string): Promise<Run> =>
  finished(spawnCli(args, env, stdin))

/** The one JSON document a `--json` run printed. */
export const doc = (run: Run): unknown => JSON.parse(run.stdout)

/** The result in the JSON document of a `--json` run (`{"target", "result"}`), or the whole document. */
export const json = (run: Run): unknown => {
  const document: unknown = doc(run)
  return typeof document === "object" && document !== null && "result" in document && "target" in document
    ? document.result
    : document
}

/** A running emulator in this process, and the environment that points `cdf-fn` at it. */
export interface TestEmulator {
  readonly baseUrl: string
  readonly token: string
  readonly env: Record<string, string>
  /** `GET` on the project's API with the dev token. */
  readonly get: (path: string) => Promise<unknown>
  /** Runs `use` with the emulator's service (its faults, its counters). */
  readonly use: <A>(use: (emulator: Emulator.Emulator.Service) => Effect.Effect<A>) => Promise<A>
  readonly stop: () => Promise<void>
}

/** Starts an emulator on 127.0.0.1 (a free port). */
export const startEmulator = async (): Promise<TestEmulator> => {
  const runtime = ManagedRuntime.make(Emulator.layer({}))
  const emulator = await runtime.runPromise(Emulator.Emulator)
  const token = Redacted.value(emulator.token)
  return {
    baseUrl: emulator.baseUrl,
    token,
    env: cleanEnv({ COGNITE_BASE_URL: emulator.baseUrl, COGNITE_PROJECT: emulator.project, COGNITE_TOKEN: token }),
    get: async (p) => {
      const response = await fetch(`${emulator.baseUrl}/api/v1/projects/${emulator.project}${p}`, {
        headers: { authorization: `Bearer ${token}` }
      })
      return response.json()
    },
    use: (use) => runtime.runPromise(use(emulator)),
    stop: () => runtime.dispose()
  }
}

/** Writes a function folder with these files into a new temporary directory. */
export const functionFolder = (name: string, files: Record<string, string>): string => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cdf-fn-test-")), name)
  fs.mkdirSync(dir)
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text)
  return dir
}

/** Waits until `check` gives a value, trying every 100 ms for up to `millis`. */
export const eventually = async <A>(check: () => Promise<A | undefined>, millis = 30_000): Promise<A> => {
  const deadline = Date.now() + millis
  while (Date.now() < deadline) {
    const value = await check()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error("timed out waiting")
}

/** A Python handler that prints `step i` `steps` times, `delayMs` apart, and returns `{ steps }`. */
export const SLOW_PY = `import time


def handle(data):
    steps = data.get("steps", 3) if isinstance(data, dict) else 3
    delay = data.get("delayMs", 300) if isinstance(data, dict) else 300
    for i in range(1, steps + 1):
        print(f"step {i}", flush=True)
        time.sleep(delay / 1000)
    return {"steps": steps}
`

/** A Python handler answering its version: a change of `version` is a change of content. */
export const versioned = (version: number): string => `def handle(data):\n    return {"version": ${version}}\n`

/** A function as `--json` documents show it (the fields the tests read). */
export interface Fn {
  readonly id: number
  readonly externalId: string
  readonly status: string
}

/** The result of `functions deploy --json`. */
export interface Deployed {
  readonly outcome: "created" | "unchanged" | "replaced"
  readonly function: Fn
  readonly hash: string
  readonly schedules: ReadonlyArray<{ readonly id: number; readonly functionId: number; readonly name: string }>
}

/** The result of `functions deploy --json`, as the tests read it. */
export const deployedOf = (value: unknown): Deployed => value as Deployed

/** Deploys a folder with `cdf-fn functions deploy --json` into `env`'s target; it must succeed. */
export const deployer =
  (env: Record<string, string>) => async (folder: string, name: string, ...more: Array<string>): Promise<Deployed> => {
    const run = await cli(["functions", "deploy", folder, "--name", name, "--json", ...more], env)
    if (run.code !== 0) throw new Error(`deploying ${name} exited ${run.code}: ${run.stderr}`)
    return deployedOf(json(run))
  }
