/**
 * `cdf-fn functions deploy` is idempotent by content: the same folder again is `unchanged`, a changed one
 * is a `Conflict` naming `--replace`, and `--replace` replaces it (keeping the old one when the new one
 * fails to build). End to end through the built `cdf-fn`, against an emulator of this file's own.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { TestEmulator } from "./support.js"
import { cli, deployedOf, deployer, functionFolder, json, startEmulator, versioned } from "./support.js"

let emulator: TestEmulator
let deploy: ReturnType<typeof deployer>

beforeAll(async () => {
  emulator = await startEmulator()
  deploy = deployer(emulator.env)
})

afterAll(async () => {
  await emulator?.stop()
})

describe.concurrent("cdf-fn functions deploy, idempotent by content", () => {
  it("the same folder twice is unchanged: exit 0, the same function, nothing deployed", async () => {
    const folder = functionFolder("same-twice", { "handler.py": versioned(1) })
    const first = await deploy(folder, "same-twice")
    expect(first).toMatchObject({ outcome: "created", function: { externalId: "same-twice", status: "Ready" } })
    expect(first.hash).toMatch(/^sha256:[0-9a-f]{64}$/)
    const [again, human] = await Promise.all([
      cli(["functions", "deploy", folder, "--json"], emulator.env),
      cli(["functions", "deploy", folder], emulator.env)
    ])
    expect(again.code, again.stderr).toBe(0)
    expect(json(again)).toEqual({ ...first, outcome: "unchanged" })
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(new RegExp(`^unchanged same-twice \\(function ${first.function.id}\\) in`))
    expect(human.stderr).toContain("nothing to do")
    expect(human.stderr).not.toContain("uploaded")
  })

  it("deploy narrates on stderr; changed content without --replace exits 3, names --replace, changes nothing", async () => {
    const folder = functionFolder("changed", { "handler.py": versioned(1) })
    const narrated = await cli(["functions", "deploy", folder], emulator.env)
    expect(narrated.code, narrated.stderr).toBe(0)
    expect(narrated.stderr).toContain("zipped 1 file(s)")
    expect(narrated.stderr).toMatch(/Ready \(function \d+\)/)
    const created = /^created changed \(function (\d+)\): .*Ready in/.exec(narrated.stdout)
    expect(created, narrated.stdout).not.toBeNull()
    expect(narrated.stdout).toContain("call it with: cdf-fn call changed")
    fs.writeFileSync(path.join(folder, "handler.py"), versioned(2))
    const [human, machine] = await Promise.all([
      cli(["functions", "deploy", folder], emulator.env),
      cli(["functions", "deploy", folder, "--json"], emulator.env)
    ])
    expect(human.code).toBe(3)
    expect(human.stdout).toBe("")
    expect(human.stderr).toMatch(/^error: Conflict/m)
    expect(human.stderr).toContain("--replace")
    expect(machine.code).toBe(3)
    expect(json(machine)).toMatchObject({ error: { _tag: "Conflict", message: expect.stringContaining("--replace") } })
    const called = await cli(["call", "changed", "--json"], emulator.env)
    expect(json(called)).toMatchObject({ functionId: Number(created?.[1]), response: { version: 1 } })
  })

  it("--replace builds the new version, replaces the function and recreates its schedules", async () => {
    const folder = functionFolder("replaced", { "handler.py": versioned(1) })
    const first = await deploy(folder, "replaced")
    const schedule = await cli(
      ["schedules", "create", "--name", "replaced-hourly", "--cron", "0 * * * *", "--function", "replaced", "--json"],
      emulator.env
    )
    expect(schedule.code, schedule.stderr).toBe(0)
    fs.writeFileSync(path.join(folder, "handler.py"), versioned(2))
    const run = await cli(["functions", "deploy", folder, "--replace", "--json"], emulator.env)
    expect(run.code, run.stderr).toBe(0)
    const second = deployedOf(json(run))
    expect(second).toMatchObject({ outcome: "replaced", function: { externalId: "replaced", status: "Ready" } })
    expect(second.function.id).not.toBe(first.function.id)
    expect(second.hash).not.toBe(first.hash)
    expect(second.schedules).toMatchObject([{ name: "replaced-hourly", functionId: second.function.id }])
    const [called, old] = await Promise.all([
      cli(["call", "replaced", "--json"], emulator.env),
      cli(["functions", "get", String(first.function.id)], emulator.env)
    ])
    expect(json(called)).toMatchObject({ functionId: second.function.id, response: { version: 2 } })
    expect(old.code).toBe(3)
  })

  it("--replace with a version that fails to build exits 1 and leaves the old function serving", async () => {
    const folder = functionFolder("kept", { "handler.py": versioned(1) })
    const first = await deploy(folder, "kept")
    fs.writeFileSync(path.join(folder, "handler.py"), "def handle(data):\n    return (\n")
    const run = await cli(["functions", "deploy", folder, "--replace"], emulator.env)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`replacing function ${first.function.id}`)
    expect(run.stderr).toMatch(/^error: DeployFailed: .*left in place/m)
    const called = await cli(["call", "kept", "--json"], emulator.env)
    expect(json(called)).toMatchObject({ functionId: first.function.id, response: { version: 1 } })
  })
})
