/**
 * The emulator's bin run as a separate process: started with flags, its base URL and dev token read
 * from its `--json` line, and killed (gently or with SIGKILL) by the test that started it.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The built bin (`test/globalSetup.ts` builds it). */
export const binPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js")

/** A running emulator process. */
export interface Running {
  readonly child: ChildProcess
  readonly baseUrl: string
  readonly token: string
  readonly project: string
  /** What it printed on stderr so far. */
  readonly stderr: () => string
  /** Resolves with the exit code (or the signal) once the process is gone. */
  readonly exited: Promise<number | NodeJS.Signals | null>
}

/** Starts the bin with `args` and waits for its `--json` line. */
export const start = (args: ReadonlyArray<string>): Promise<Running> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, "--json", ...args], { stdio: ["ignore", "pipe", "pipe"] })
    const exited = new Promise<number | NodeJS.Signals | null>((done) =>
      child.on("exit", (code, signal) => done(signal ?? code))
    )
    let out = ""
    let err = ""
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk
    })
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk
      const end = out.indexOf("\n")
      if (end === -1) return
      const info: unknown = JSON.parse(out.slice(0, end))
      if (typeof info === "object" && info !== null && "baseUrl" in info && "token" in info && "project" in info) {
        resolve({
          child,
          baseUrl: String(info.baseUrl),
          token: String(info.token),
          project: String(info.project),
          stderr: () => err,
          exited
        })
      }
    })
    void exited.then((code) => reject(new Error(`the emulator exited (${String(code)}) before it listened: ${err}`)))
  })
