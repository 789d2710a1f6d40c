/**
 * Ctrl-C and lost answers in `cdf-fn call`: each hint says only what is known (resume the wait with the
 * call id; or the send's time and session, and the `calls reconcile` command that finds the call), and
 * an unknown outcome prints its evidence. End to end through the built `cdf-fn`, against an emulator of
 * this file's own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Fn, TestEmulator } from "./support.js"
import {
  cli,
  deployer,
  eventually,
  finished,
  functionFolder,
  json,
  SLOW_PY,
  spawnCli,
  startEmulator,
  versioned
} from "./support.js"

let emulator: TestEmulator
let deploy: ReturnType<typeof deployer>
/** A slow handler called only by the Ctrl-C test, so its running call is the one that test started. */
let patient: Fn

beforeAll(async () => {
  emulator = await startEmulator()
  deploy = deployer(emulator.env)
  patient = (await deploy(functionFolder("patient", { "handler.py": SLOW_PY }), "patient")).function
})

afterAll(async () => {
  await emulator?.stop()
})

describe.concurrent("cdf-fn call, interrupted while waiting", () => {
  it("Ctrl-C stops the wait cleanly: exit 130 and the command that resumes it", async () => {
    const child = spawnCli(["call", "patient", "--data", "{\"steps\": 100, \"delayMs\": 200}"], emulator.env)
    const done = finished(child)
    const callId = await eventually(async () => {
      const page = (await emulator.get(`/functions/${patient.id}/calls?limit=10`)) as {
        items: Array<{ id: number; status: string }>
      }
      return page.items.find((c) => c.status === "Running")?.id
    }, 60_000)
    // the CLI is polling by now; give it a moment past its first poll
    await new Promise((resolve) => setTimeout(resolve, 1000))
    child.kill("SIGINT")
    const run = await done
    expect(run.code).toBe(130)
    expect(run.stderr).toContain("interrupted: stopped waiting")
    expect(run.stderr).toMatch(
      new RegExp(`resume waiting with: cdf-fn await ${patient.id} ${callId} --started-at \\d{13}\n`)
    )
    // the SDK's own note of the interrupted wait is not printed on top of the CLI's
    expect(run.stderr).not.toContain("Calls.await(")
    expect(run.stderr).not.toContain("    at ")
  })
})

describe.concurrent("cdf-fn call, cut off while sending", () => {
  /** A function whose calls' POSTs hang in the emulator (latency before anything is created). */
  let hanging: Fn
  /** A function whose calls' POSTs are answered with a connection reset before anything is created. */
  let lost: Fn

  beforeAll(async () => {
    ;[hanging, lost] = (await Promise.all([
      deploy(functionFolder("hanging", { "handler.py": versioned(1) }), "hanging"),
      deploy(functionFolder("lost", { "handler.py": versioned(1) }), "lost")
    ])).map((d) => d.function)
    await emulator.use((e) =>
      e.setFaults({
        rules: [
          { method: "POST", path: `/functions/${hanging.id}/call`, action: { _tag: "latency", millis: 120_000 } },
          { method: "POST", path: `/functions/${lost.id}/call`, action: { _tag: "resetBefore" } }
        ]
      })
    )
  })

  it("Ctrl-C during the POST prints the send and the calls reconcile command, which then proves NotCreated", async () => {
    const child = spawnCli(["call", "hanging", "--data", "{}"], emulator.env)
    const done = finished(child)
    // the POST is in the emulator (held by the latency fault) once its rule has matched
    await eventually(async () => {
      const stats = await emulator.use((e) => e.faultStats)
      return stats.some((s) => s.rule.path === `/functions/${hanging.id}/call` && s.matched > 0) ? true : undefined
    }, 60_000)
    child.kill("SIGINT")
    const run = await done
    expect(run.code).toBe(130)
    expect(run.stderr).toMatch(
      new RegExp(
        `interrupted while the call was being sent: call of function ${hanging.id} may exist \\(sent at \\d{13}, ` +
          `[^,]+, session \\d+\\)`
      )
    )
    const command = /find it with: (cdf-fn calls reconcile (\d+) --sent-at (\d+) --session-id (\d+))\n/.exec(run.stderr)
    expect(command?.[2]).toBe(String(hanging.id))
    // the SDK's own Warning says the same in its API's words: not printed twice
    expect(run.stderr).not.toContain("Calls.reconcile(")
    expect(run.stderr).not.toContain("    at ")
    const argv = [
      "calls",
      "reconcile",
      command?.[2] ?? "",
      "--sent-at",
      command?.[3] ?? "",
      "--session-id",
      command?.[4] ?? ""
    ]
    // once: reconciling revokes the unused session, and a revoked session no longer proves anything
    const reconciled = await cli([...argv, "--json"], emulator.env)
    expect(reconciled.code).toBe(3)
    expect(reconciled.stderr).toMatch(/^error: CallOutcomeUnknown: /)
    expect(reconciled.stderr).toContain("evidence: NotCreated: the call was not created")
    expect(reconciled.stderr).toContain("calling again is safe")
    expect(json(reconciled)).toMatchObject({
      error: { _tag: "CallOutcomeUnknown", evidence: "NotCreated", sessionId: Number(command?.[4]) }
    })
  })

  it("calls reconcile needs --sent-at", async () => {
    const run = await cli(["calls", "reconcile", "hanging"], emulator.env)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("needs --sent-at EPOCH_MS")
  })

  it("a lost answer that reconciliation proves not created exits 3 and says calling again is safe", async () => {
    const [human, machine] = await Promise.all([
      cli(["call", "lost", "--data", "{}"], emulator.env),
      cli(["call", "lost", "--data", "{}", "--json"], emulator.env)
    ])
    expect(human.code).toBe(3)
    expect(human.stderr).toMatch(/^error: CallOutcomeUnknown: /)
    expect(human.stderr).toMatch(/sent at \d{13} \(.*\), session \d+/)
    expect(human.stderr).toContain("evidence: NotCreated")
    expect(human.stderr).toContain("calling again is safe")
    expect(machine.code).toBe(3)
    expect(json(machine)).toMatchObject({ error: { _tag: "CallOutcomeUnknown", evidence: "NotCreated" } })
    expect(await emulator.use((e) => e.executions(lost.id))).toBe(0)
  })
})
