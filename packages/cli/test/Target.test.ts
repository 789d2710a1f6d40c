/**
 * Which server a command talks to, and what a command line that cannot run prints: end to end through
 * the built `cdf-fn`, against an emulator of this file's own.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { cleanEnv, cli, doc, fileEmulator, finished, spawnCli } from "./support.js"

let project: string

const emulator = fileEmulator(async (started) => {
  project = started.env.COGNITE_PROJECT ?? ""
})

describe.concurrent("the target", () => {
  it("a partial configuration is an error naming what is missing, never the embedded emulator", async () => {
    const [secretOnly, toolkitOnly] = await Promise.all([
      cli(["functions", "list", "--json"], cleanEnv({ COGNITE_CLIENT_SECRET: "canary-secret-1" })),
      cli(["functions", "list"], cleanEnv({ CDF_CLUSTER: "westeurope-1", IDP_CLIENT_ID: "c" }))
    ])
    expect(secretOnly.code).toBe(2)
    expect(secretOnly.stderr).not.toContain("embedded emulator at")
    for (const part of ["COGNITE_PROJECT (or CDF_PROJECT)", "COGNITE_CLIENT_ID (or IDP_CLIENT_ID)"]) {
      expect(secretOnly.stderr).toContain(part)
    }
    expect(doc(secretOnly)).toMatchObject({ error: { _tag: "ConfigError", problems: expect.any(Array) } })
    expect(secretOnly.stdout + secretOnly.stderr).not.toContain("canary-secret-1")
    expect(toolkitOnly.code).toBe(2)
    expect(toolkitOnly.stderr).toContain("COGNITE_PROJECT (or CDF_PROJECT)")
    expect(toolkitOnly.stderr).toContain("IDP_CLIENT_SECRET")
  })

  it("a configuration error prints balanced parentheses, one problem a line", async () => {
    const run = await cli(["functions", "list"], cleanEnv({ COGNITE_PROJECT: "x" }))
    expect(run.code).toBe(2)
    for (const line of run.stderr.trim().split("\n")) {
      expect(line.split("(").length, line).toBe(line.split(")").length)
    }
    expect(run.stderr).toMatch(/^error: configuration:\n {2}- the API's address is not set/)
  })

  it("the toolkit's names select CDF, and --json says which target answered", async () => {
    const env = cleanEnv({ CDF_URL: emulator.baseUrl, CDF_PROJECT: project, CDF_TOKEN: emulator.token })
    const [toolkit, embedded] = await Promise.all([
      cli(["functions", "status", "--json"], env),
      cli(["functions", "status", "--json", "--emulator"], env)
    ])
    expect(toolkit.code, toolkit.stderr).toBe(0)
    expect(doc(toolkit)).toEqual({
      target: { kind: "cdf", baseUrl: emulator.baseUrl, project },
      result: { status: "activated" }
    })
    expect(embedded.code, embedded.stderr).toBe(0)
    expect(doc(embedded)).toMatchObject({ target: { kind: "embedded", project: "playground" } })
    expect(embedded.stderr).toContain("using the embedded emulator")
    const both = await cli(["functions", "status", "--emulator", "--base-url", emulator.baseUrl], env)
    expect(both.code).toBe(2)
    expect(both.stderr).toContain("--emulator cannot be combined with --base-url")
  })

  it("--token warns that it is visible in ps; --token-file and --token-file - do not", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cdf-fn-token-")), "token")
    fs.writeFileSync(file, `${emulator.token}\n`)
    const env = cleanEnv()
    const base = ["functions", "status", "--base-url", emulator.baseUrl, "--project", project]
    const [flag, fromFile, fromStdin, empty] = await Promise.all([
      cli([...base, "--token", emulator.token], env),
      cli([...base, "--token-file", file], env),
      cli([...base, "--token-file", "-"], env, `${emulator.token}\n`),
      cli([...base, "--token-file", "-", "--json"], env, "")
    ])
    expect(flag.code, flag.stderr).toBe(0)
    expect(flag.stderr).toContain("warning: --token puts the token in the process list")
    expect(flag.stderr).not.toContain(emulator.token)
    for (const run of [fromFile, fromStdin]) {
      expect(run.code, run.stderr).toBe(0)
      expect(run.stderr).toBe("")
      expect(run.stdout.trim()).toBe("Functions is activated")
    }
    expect(empty.code).toBe(2)
    expect(doc(empty)).toMatchObject({ error: { _tag: "UsageError", message: "--token-file: stdin is empty" } })
  })
})

describe.concurrent("usage errors", () => {
  it("--json gives a JSON error document on stdout, with a suggestion for a typo", async () => {
    const env = emulator.env
    const [command, option, status, folder] = await Promise.all([
      cli(["fucntions", "list", "--json"], env),
      cli(["call", "hello", "--dat", "{}", "--json"], env),
      cli(["calls", "list", "hello", "--status", "Runing", "--json"], env),
      cli(["functions", "deploy", "/nonexistent/folder", "--json"], env)
    ])
    for (const run of [command, option, status, folder]) {
      expect(run.code, run.stderr).toBe(2)
      expect(doc(run)).toMatchObject({ error: { _tag: "UsageError" } })
      expect(run.stderr).toMatch(/^error: /)
    }
    expect(doc(command)).toMatchObject({ error: { suggestion: "functions" } })
    expect(doc(option)).toMatchObject({ error: { suggestion: "--data" } })
    expect(doc(status)).toMatchObject({ error: { suggestion: "Running" } })
    expect(doc(folder)).toMatchObject({ error: { message: "/nonexistent/folder is not a folder" } })
  })

  it("an unknown subcommand lists that group's commands", async () => {
    const run = await cli(["functions", "lst"], cleanEnv())
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("did you mean functions list?")
    expect(run.stderr).toContain("the functions commands: list, get, deploy, delete, limits, status, activate")
    expect(run.stderr).not.toContain("schedules")
  })

  it("--help is plain text at 80 columns, even with colors asked for", async () => {
    const run = await cli(["functions", "deploy", "--help"], cleanEnv({ NO_COLOR: "", FORCE_COLOR: "1" }))
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^Usage: cdf-fn functions deploy <folder> \[options\]/)
    expect(run.stdout).not.toMatch(/\u001b/)
    expect(Math.max(...run.stdout.split("\n").map((line) => line.length))).toBeLessThanOrEqual(80)
  })

  it("a closed stdout (| head -1) ends the command quietly", async () => {
    const child = spawnCli(["functions", "list"], emulator.env)
    child.stdout?.destroy()
    const run = await finished(child)
    expect(run.stderr).not.toContain("EPIPE")
    expect(run.stderr).not.toContain("    at ")
    expect(run.code).toBe(0)
  })
})
