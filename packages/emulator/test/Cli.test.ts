/** The emulator's one command line: its flags, its help at 80 columns, and its bin as a process. */
import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import { spawnSync } from "node:child_process"
import { Command } from "../src/index.js"
import { binPath, start } from "./bin.js"

const none = Option.none()

describe("the emulator's command", () => {
  it("maps its flags to emulator options", () => {
    expect(Command.toEmulatorOptions({
      port: 0,
      host: "127.0.0.1",
      project: "demo",
      dataDir: Option.some("/tmp/x"),
      token: none,
      clientId: none,
      clientSecret: none,
      timeoutMinutes: Option.some(2),
      seed: Option.some(7),
      json: false
    })).toEqual({
      port: 0,
      host: "127.0.0.1",
      project: "demo",
      dataDir: "/tmp/x",
      token: undefined,
      clientId: undefined,
      clientSecret: undefined,
      limits: { timeoutMinutes: 2 },
      faults: { seed: 7, rules: [] }
    })
  })

  it("documents every flag in help that fits 80 columns", () => {
    const help = Command.helpText("effect-cdf-emulator")
    for (const line of help.split("\n")) expect(line.length).toBeLessThanOrEqual(80)
    for (const [flag] of Object.values(Command.flags)) expect(help).toContain(flag)
  })

  it("the bin prints its help, refuses bad flags with exit 2, and stops cleanly on SIGTERM", async () => {
    const help = spawnSync(process.execPath, [binPath, "--help"], { encoding: "utf8" })
    expect(help.status).toBe(0)
    expect(help.stdout).toContain("--timeout-minutes N")
    expect(help.stdout).not.toContain("\u001b[")
    const bad = spawnSync(process.execPath, [binPath, "--port", "70000"], { encoding: "utf8" })
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain("--port must be from 0 to 65535")

    const running = await start(["--port", "0", "--token", "a-token-for-this-test", "--project", "demo"])
    expect(running.token).toBe("a-token-for-this-test")
    expect(running.stderr()).toContain("--token is visible to other users in ps")
    expect(running.project).toBe("demo")
    const status = await fetch(`${running.baseUrl}/api/v1/projects/demo/functions/status`, {
      headers: { authorization: "Bearer a-token-for-this-test" }
    })
    expect(status.status).toBe(200)
    running.child.kill("SIGTERM")
    expect(await running.exited).toBe(0)
  }, 30_000)
})
