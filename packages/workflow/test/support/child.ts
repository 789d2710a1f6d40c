/** Child processes for the kill tests: the runner bundled once with esbuild, spawned with plain `node`. */
import { Effect, Schema } from "effect"
import * as esbuild from "esbuild"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const pkg = path.resolve(here, "../..")
const packages = path.resolve(pkg, "..")

/**
 * Bundles the runner: our packages from their sources, every dependency this package can resolve left
 * external (one copy of effect, the native drivers as installed); the rest (dependencies of our other
 * packages) bundled in.
 */
export const bundle = Effect.promise(async () => {
  const outfile = path.join(pkg, "build", "kill-test", "runner.mjs")
  await esbuild.build({
    entryPoints: [path.join(here, "runner.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile,
    logLevel: "error",
    plugins: [{
      name: "workspace",
      setup(build) {
        build.onResolve({ filter: /^@effect-cdf\// }, (args) => {
          const [, name, sub] = /^@effect-cdf\/([^/]+)(?:\/(.+))?$/.exec(args.path) ?? []
          return { path: path.join(packages, name, "src", `${sub ?? "index"}.ts`) }
        })
        build.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith("node:")) return { path: args.path, external: true }
          const parts = args.path.split("/")
          const name = args.path.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]
          // pnpm links exactly this package's dependencies into its node_modules: those the bundle can import
          return fs.existsSync(path.join(pkg, "node_modules", name)) ? { path: args.path, external: true } : undefined
        })
      }
    }]
  })
  return outfile
})

/** A running child: its output lines as they come, and a way to kill it. */
export interface Child {
  readonly process: ChildProcess
  readonly lines: Array<string>
  readonly stderr: Array<string>
  readonly send: (command: unknown) => void
  /** Waits for a line that starts with `prefix`; fails after `timeoutMillis` or when the child exits. */
  readonly waitFor: (prefix: string, timeoutMillis?: number) => Effect.Effect<string>
  readonly exited: Promise<number | null>
}

/** Spawns the bundled runner with the environment given; the scope kills it (SIGKILL) if it still runs. */
export const spawnRunner = (file: string, env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync((): Child => {
      const child = spawn(process.execPath, [file], {
        env: { ...process.env, ...env },
        stdio: ["pipe", "pipe", "pipe"]
      })
      const lines: Array<string> = []
      const stderr: Array<string> = []
      let buffer = ""
      child.stdout.on("data", (chunk: Buffer) => {
        buffer += chunk.toString()
        const parts = buffer.split("\n")
        buffer = parts.pop() ?? ""
        lines.push(...parts)
      })
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()))
      // "close", not "exit": the output is all read by then
      const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
      let done = false
      void exited.then(() => {
        done = true
      })
      const waitFor = (prefix: string, timeoutMillis = 30_000) =>
        Effect.promise(async () => {
          const until = Date.now() + timeoutMillis
          for (;;) {
            const found = lines.find((line) => line.startsWith(prefix))
            if (found !== undefined) return found
            if (done || Date.now() > until) {
              throw new Error(
                `no "${prefix}" from the runner (${done ? "it exited" : "timed out"}): ${stderr.join("")}`
              )
            }
            await new Promise((resolve) => setTimeout(resolve, 5))
          }
        })
      return {
        process: child,
        lines,
        stderr,
        send: (command) => child.stdin.write(`${typeof command === "string" ? command : JSON.stringify(command)}\n`),
        waitFor,
        exited
      }
    }),
    (child) =>
      Effect.promise(async () => {
        if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGKILL")
        await child.exited
      })
  )

/** Kills a child with SIGKILL and waits until it is gone. */
export const kill9 = (child: Child) =>
  Effect.promise(async () => {
    child.process.kill("SIGKILL")
    await child.exited
  })

/** A fresh temporary directory, removed with the scope. */
export const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), prefix))),
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )

const Result = Schema.parseJson(Schema.Struct({
  key: Schema.String,
  outcome: Schema.String,
  callId: Schema.optional(Schema.Number),
  message: Schema.optional(Schema.String),
  response: Schema.optional(Schema.Unknown)
}))

/** A runner's `result <json>` line: the outcome of one durable call. */
export const decodeResult = (line: string) => Schema.decodeUnknownSync(Result)(line.slice("result ".length))
