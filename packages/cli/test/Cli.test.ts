/**
 * End-to-end tests of the built `cdf-fn`: each test runs it in a child process against an emulator
 * started by this file (or against the emulator `cdf-fn` embeds), and checks its output and exit code.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { TestEmulator } from "./support.js"
import {
  cleanEnv,
  cli,
  eventually,
  EXAMPLES,
  finished,
  functionFolder,
  json,
  spawnCli,
  startEmulator
} from "./support.js"

const SLOW_PY = `import time


def handle(data):
    steps = data.get("steps", 3) if isinstance(data, dict) else 3
    delay = data.get("delayMs", 300) if isinstance(data, dict) else 300
    for i in range(1, steps + 1):
        print(f"step {i}", flush=True)
        time.sleep(delay / 1000)
    return {"steps": steps}
`

const APP_PY = `def handle(data):
    if data.get("path") == "/missing":
        return {"status_code": 404, "error_type": "NotFound", "message": "no such route"}
    return {"status_code": 200, "data": {"method": data.get("method"), "path": data.get("path"), "body": data.get("body")}}
`

/** A handler answering its version: a change of `version` is a change of content. */
const versioned = (version: number) => `def handle(data):\n    return {"version": ${version}}\n`

interface Fn {
  readonly id: number
  readonly externalId: string
  readonly status: string
}

/** The JSON document of `functions deploy --json`. */
interface Deployed {
  readonly outcome: "created" | "unchanged" | "replaced"
  readonly function: Fn
  readonly hash: string
  readonly schedules: ReadonlyArray<{ readonly id: number; readonly functionId: number; readonly name: string }>
}

const deployedOf = (value: unknown): Deployed => value as Deployed

let emulator: TestEmulator
let hello: Fn
let slow: Fn
/** The same slow handler, called only by the Ctrl-C test, so its running call is the one that test started. */
let patient: Fn

const deploy = async (folder: string, name: string, ...more: Array<string>): Promise<Deployed> => {
  const run = await cli(["functions", "deploy", folder, "--name", name, "--json", ...more], emulator.env)
  expect(run.code, run.stderr).toBe(0)
  return deployedOf(json(run))
}

beforeAll(async () => {
  emulator = await startEmulator()
  const deployed = await Promise.all([
    deploy(path.join(EXAMPLES, "python-hello"), "hello"),
    deploy(functionFolder("slow", { "handler.py": SLOW_PY }), "slow"),
    deploy(functionFolder("patient", { "handler.py": SLOW_PY }), "patient"),
    deploy(functionFolder("app", { "handler.py": APP_PY }), "app")
  ])
  ;[hello, slow, patient] = deployed.map((d) => d.function)
})

afterAll(async () => {
  await emulator?.stop()
})

describe.concurrent("cdf-fn functions", () => {
  it("deploy --json gives the Ready function; list and get find it by external id and by id", async () => {
    expect(hello).toMatchObject({ externalId: "hello", status: "Ready" })
    const [list, byXid, byId, human] = await Promise.all([
      cli(["functions", "list", "--json"], emulator.env),
      cli(["functions", "get", "hello", "--json"], emulator.env),
      cli(["functions", "get", String(hello.id), "--json"], emulator.env),
      cli(["functions", "list"], emulator.env)
    ])
    expect(list.code).toBe(0)
    // other tests deploy into the same emulator meanwhile: look for this file's functions, not for an exact list
    const listed = new Map((json(list) as Array<Fn>).map((fn) => [fn.externalId, fn.id]))
    for (const fn of [hello, slow, patient]) expect(listed.get(fn.externalId)).toBe(fn.id)
    expect(listed.has("app")).toBe(true)
    expect(json(byXid)).toMatchObject({ id: hello.id, name: "hello", functionPath: "handler.py" })
    expect(json(byId)).toMatchObject({ id: hello.id, externalId: "hello" })
    expect(human.stdout).toMatch(/^ID\s+EXTERNAL ID\s+NAME\s+STATUS/)
    // ids differ in length, so the column is padded: match the row, not a fixed number of spaces
    expect(human.stdout).toMatch(new RegExp(`^${hello.id}\\s+hello\\s+hello\\s+Ready`, "m"))
  })

  it("limits, status and activate", async () => {
    const [limits, status, activate] = await Promise.all([
      cli(["functions", "limits", "--json"], emulator.env),
      cli(["functions", "status"], emulator.env),
      cli(["functions", "activate", "--json"], emulator.env)
    ])
    expect(json(limits)).toMatchObject({ timeoutMinutes: 9, responseSizeMb: 1 })
    expect(status.stdout.trim()).toBe("Functions is activated")
    expect(json(activate)).toEqual({ status: "activated" })
  })

  it("delete removes functions; an unknown id then exits 3 with the request id", async () => {
    const folder = functionFolder("doomed", { "handler.py": versioned(1) })
    const deployed = (await deploy(folder, "doomed")).function
    const removed = await cli(["functions", "delete", String(deployed.id)], emulator.env)
    expect(removed.code, removed.stderr).toBe(0)
    const gone = await cli(["functions", "get", String(deployed.id)], emulator.env)
    expect(gone.code).toBe(3)
    expect(gone.stderr).toMatch(/^error: NotFound \(HTTP 404/)
    expect(gone.stderr).toMatch(/request id: \S+/)
    expect(gone.stderr).not.toContain("    at ")
  })
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

describe.concurrent("cdf-fn call and await", () => {
  it("call prints the response and nothing else off a TTY; --json gives the call's document", async () => {
    const [human, machine] = await Promise.all([
      cli(["call", "hello", "--data", "{\"name\": \"Ada\"}"], emulator.env),
      cli(["call", String(hello.id), "--data", "{\"name\": \"Bo\"}", "--json"], emulator.env)
    ])
    expect(human.code, human.stderr).toBe(0)
    expect(JSON.parse(human.stdout)).toEqual({ greeting: "Hello, Ada!", length: 11 })
    expect(human.stderr).toBe("")
    expect(json(machine)).toMatchObject({
      functionId: hello.id,
      status: "Completed",
      response: { greeting: "Hello, Bo!", length: 10 }
    })
  })

  it("--data @file reads the data from a file", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cdf-fn-data-")), "data.json")
    fs.writeFileSync(file, JSON.stringify({ name: "File" }))
    const run = await cli(["call", "hello", "--data", `@${file}`, "--json"], emulator.env)
    expect(run.code, run.stderr).toBe(0)
    expect(json(run)).toMatchObject({ response: { greeting: "Hello, File!" } })
  })

  it("a failing call exits 1 with CallFailed, its message and the Python traceback", async () => {
    const [human, machine] = await Promise.all([
      cli(["call", "hello", "--data", "{\"name\": \"\"}"], emulator.env),
      cli(["call", "hello", "--json"], emulator.env)
    ])
    expect(human.code).toBe(1)
    expect(human.stdout).toBe("")
    expect(human.stderr).toMatch(
      /^error: CallFailed: Call \d+ of function \d+ failed: ValueError: name must be a non-empty string/
    )
    expect(human.stderr).toContain("Traceback (most recent call last)")
    expect(human.stderr).toContain("    ValueError: name must be a non-empty string")
    expect(machine.code).toBe(1)
    expect(json(machine)).toMatchObject({
      error: { _tag: "CallFailed", reason: expect.stringContaining("ValueError") }
    })
  })

  it("bad --data exits 2 before anything is sent", async () => {
    const [broken, array, missing] = await Promise.all([
      cli(["call", "hello", "--data", "{not json"], emulator.env),
      cli(["call", "hello", "--data", "[1, 2]"], emulator.env),
      cli(["call", "hello", "--data", "@/nonexistent/data.json"], emulator.env)
    ])
    expect(broken.code).toBe(2)
    expect(broken.stderr).toMatch(/^error: --data is not valid JSON/)
    expect(array.code).toBe(2)
    expect(array.stderr).toContain("--data must be a JSON object")
    expect(missing.code).toBe(2)
  })

  it("bad usage exits 2: an unknown command, a missing argument, a bad duration", async () => {
    const [unknown, missing, duration, badId] = await Promise.all([
      cli(["frobnicate"], emulator.env),
      cli(["call"], emulator.env),
      cli(["call", "hello", "--timeout", "soon"], emulator.env),
      cli(["await", "12x", "3"], emulator.env)
    ])
    expect(unknown.code).toBe(2)
    expect(missing.code).toBe(2)
    expect(duration.code).toBe(2)
    expect(duration.stderr).toContain("--timeout must be a duration")
    expect(badId.code).toBe(2)
  })

  it("an unknown function or a wrong token exits 3; no token is printed", async () => {
    const [unknown, wrongToken] = await Promise.all([
      cli(["call", "123456789", "--data", "{}"], emulator.env),
      cli(["functions", "list"], { ...emulator.env, COGNITE_TOKEN: "not-the-token" })
    ])
    expect(unknown.code).toBe(3)
    expect(unknown.stderr).toMatch(/^error: NotFound/)
    expect(wrongToken.code).toBe(3)
    expect(wrongToken.stderr).toMatch(/^error: Unauthorized \(HTTP 401/)
    expect(wrongToken.stderr).not.toContain("not-the-token")
    expect(unknown.stderr + wrongToken.stderr).not.toContain(emulator.token)
  })

  it("call --no-wait prints the call; await resumes waiting on it", async () => {
    const started = await cli(
      ["call", "slow", "--data", "{\"steps\": 2, \"delayMs\": 200}", "--no-wait", "--json"],
      emulator.env
    )
    expect(started.code, started.stderr).toBe(0)
    const call = json(started) as { functionId: number; callId: number; status: string; startedAt: number }
    expect(call).toMatchObject({ functionId: slow.id, status: "Running" })
    const waited = await cli(
      ["await", String(call.functionId), String(call.callId), "--started-at", String(call.startedAt), "--json"],
      emulator.env
    )
    expect(waited.code, waited.stderr).toBe(0)
    expect(json(waited)).toMatchObject({ callId: call.callId, status: "Completed", response: { steps: 2 } })
  })

  it("--timeout stops waiting with PollDeadlineExceeded (exit 1) and says how to resume", async () => {
    const run = await cli(["call", "slow", "--data", "{\"steps\": 20}", "--timeout", "1s"], emulator.env)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^error: PollDeadlineExceeded: Stopped waiting for call (\d+)/)
    expect(run.stderr).toMatch(new RegExp(`resume waiting with: cdf-fn await ${slow.id} \\d+`))
  })

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

describe.concurrent("cdf-fn calls", () => {
  it("list, get, response and logs of a call", async () => {
    const called = json(await cli(["call", "hello", "--data", "{\"name\": \"Logs\"}", "--json"], emulator.env)) as {
      callId: number
    }
    const id = String(called.callId)
    const [list, get, response, logs, logsJson, failedOnly] = await Promise.all([
      cli(["calls", "list", "hello", "--json", "--limit", "100"], emulator.env),
      cli(["calls", "get", "hello", id, "--json"], emulator.env),
      cli(["calls", "response", "hello", id], emulator.env),
      cli(["calls", "logs", "hello", id], emulator.env),
      cli(["calls", "logs", String(hello.id), id, "--json"], emulator.env),
      cli(["calls", "list", "hello", "--status", "Failed", "--json"], emulator.env)
    ])
    expect((json(list) as Array<{ id: number }>).map((c) => c.id)).toContain(called.callId)
    expect(json(get)).toMatchObject({ id: called.callId, functionId: hello.id, status: "Completed" })
    expect(JSON.parse(response.stdout)).toEqual({ greeting: "Hello, Logs!", length: 12 })
    expect(logs.stdout).toContain("received name='Logs'")
    expect(logs.stdout).toContain("returning 'Hello, Logs!'")
    expect((json(logsJson) as Array<{ message: string }>).map((l) => l.message)).toContain("received name='Logs'")
    for (const call of json(failedOnly) as Array<{ status: string }>) expect(call.status).toBe("Failed")
  })

  it("logs --follow prints the lines while the call runs and ends with it", async () => {
    const started = json(
      await cli(["call", "slow", "--data", "{\"steps\": 4, \"delayMs\": 400}", "--no-wait", "--json"], emulator.env)
    ) as { callId: number }
    const run = await cli(["calls", "logs", "slow", String(started.callId), "--follow"], emulator.env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout.trim().split("\n")).toEqual(["step 1", "step 2", "step 3", "step 4"])
    const status = await cli(["calls", "get", "slow", String(started.callId), "--json"], emulator.env)
    expect(json(status)).toMatchObject({ status: "Completed" })
  })
})

describe.concurrent("cdf-fn schedules and app", () => {
  it("create, list, input and delete a schedule", async () => {
    const created = await cli(
      [
        "schedules",
        "create",
        "--name",
        "every-5",
        "--cron",
        "*/5 * * * *",
        "--function",
        "hello",
        "--data",
        "{\"name\": \"Cron\"}",
        "--json"
      ],
      emulator.env
    )
    expect(created.code, created.stderr).toBe(0)
    const schedule = json(created) as { id: number; functionId: number; when: string }
    expect(schedule).toMatchObject({ functionId: hello.id, when: "Every 5 minutes" })
    const [list, input] = await Promise.all([
      cli(["schedules", "list"], emulator.env),
      cli(["schedules", "input", String(schedule.id)], emulator.env)
    ])
    expect(list.stdout).toMatch(new RegExp(`${schedule.id}\\s+every-5\\s+\\*/5 \\* \\* \\* \\*`))
    expect(JSON.parse(input.stdout)).toEqual({ name: "Cron" })
    const removed = await cli(["schedules", "delete", String(schedule.id)], emulator.env)
    expect(removed.code, removed.stderr).toBe(0)
    const after = await cli(["schedules", "list", "--json"], emulator.env)
    expect((json(after) as Array<{ id: number }>).map((s) => s.id)).not.toContain(schedule.id)
  })

  it("a bad cron expression exits 2", async () => {
    const run = await cli(
      ["schedules", "create", "--name", "x", "--cron", "every day", "--function", "hello"],
      emulator.env
    )
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/^error: InvalidInput/)
  })

  it("app call prints the app's data; its error envelope exits 1", async () => {
    const [ok, async, failed] = await Promise.all([
      cli(["app", "call", "app", "post", "/items", "--body", "{\"a\": 1}", "--json"], emulator.env),
      cli(["app", "call", "app", "GET", "/items/2", "--async"], emulator.env),
      cli(["app", "call", "app", "GET", "/missing"], emulator.env)
    ])
    expect(ok.code, ok.stderr).toBe(0)
    expect(json(ok)).toMatchObject({ statusCode: 200, data: { method: "POST", path: "/items", body: { a: 1 } } })
    expect(async.code, async.stderr).toBe(0)
    expect(JSON.parse(async.stdout)).toMatchObject({ method: "GET", path: "/items/2" })
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain("AppFailed: the app answered 404 NotFound: no such route")
  })
})

describe.concurrent("cdf-fn without COGNITE_*", () => {
  it("uses the embedded emulator and says so on stderr", async () => {
    const run = await cli(["functions", "list", "--json"], cleanEnv())
    expect(run.code, run.stderr).toBe(0)
    expect(json(run)).toEqual([])
    expect(run.stderr).toMatch(
      /using the embedded emulator at http:\/\/127\.0\.0\.1:\d+ \(project playground\); set COGNITE_\* \(or CDF_\*\) to use CDF/
    )
  })

  it("--data-dir keeps the embedded emulator's state between commands", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdf-fn-state-"))
    const env = cleanEnv({ CDF_FN_DATA_DIR: dir })
    const deployed = await cli(["functions", "deploy", path.join(EXAMPLES, "python-hello"), "--json"], env)
    expect(deployed.code, deployed.stderr).toBe(0)
    const listed = await cli(["functions", "list", "--json"], env)
    expect(listed.code, listed.stderr).toBe(0)
    expect((json(listed) as Array<Fn>).map((fn) => fn.externalId)).toEqual(["python-hello"])
    expect(listed.stderr).toContain(`(state kept in ${dir})`)
    // a restored function is Ready again before the command runs: a call works right after a restart
    const called = await cli(["call", "python-hello", "--data", "{\"name\":\"Ada\"}", "--json"], env)
    expect(called.code, called.stderr).toBe(0)
    expect(JSON.stringify(json(called))).toContain("Hello, Ada!")
  })

  it("demo deploys, calls and shows the typed failure, and exits 0", async () => {
    const run = await cli(["demo"], cleanEnv())
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/1\. Started the local emulator at http:\/\/127\.0\.0\.1:\d+/)
    expect(run.stdout).toMatch(/2\. Deployed python-hello \(function \d+\): Queued -> .*Ready in/)
    expect(run.stdout).toMatch(/3\. Called it with \{"name":"Effect"\}: Completed after \d+ polls? in/)
    expect(run.stdout).toContain("\"greeting\": \"Hello, Effect!\"")
    expect(run.stdout).toContain("| received name='Effect'")
    expect(run.stdout).toContain("the SDK raised CallFailed")
    expect(run.stdout).toMatch(
      /error: CallFailed: Call \d+ of function \d+ failed: ValueError: name must be a non-empty string/
    )
    expect(run.stdout).toContain("Done. Next:")
  })

  it("demo --json and --example", async () => {
    const folder = functionFolder("greeter", {
      "handler.py": fs.readFileSync(path.join(EXAMPLES, "python-hello", "handler.py"), "utf8")
    })
    const run = await cli(["demo", "--json", "--example", folder], cleanEnv())
    expect(run.code, run.stderr).toBe(0)
    expect(json(run)).toMatchObject({
      function: { externalId: "greeter", statuses: expect.arrayContaining(["Ready"]) },
      call: { status: "Completed", response: { greeting: "Hello, Effect!", length: 14 } },
      failure: { error: { _tag: "CallFailed", reason: expect.stringContaining("name must be a non-empty string") } }
    })
  })

  it("emulator start prints where it is, serves commands, and stops on Ctrl-C", async () => {
    const child = spawnCli(["emulator", "start", "--json"], cleanEnv())
    const firstLine = new Promise<string>((resolve) => {
      let buffer = ""
      child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
        buffer += chunk
        const end = buffer.indexOf("\n")
        if (end >= 0) resolve(buffer.slice(0, end))
      })
    })
    const done = finished(child)
    const info = JSON.parse(await firstLine) as { env: Record<string, string> }
    expect(info.env.COGNITE_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const status = await cli(["functions", "status", "--json"], cleanEnv(info.env))
    expect(json(status)).toEqual({ status: "activated" })
    child.kill("SIGINT")
    const run = await done
    expect(run.code).toBe(130)
  })

  it("--help lists the commands", async () => {
    const run = await cli(["--help"], cleanEnv())
    expect(run.code).toBe(0)
    for (const name of ["functions", "call", "await", "calls", "schedules", "app", "emulator", "demo"]) {
      expect(run.stdout).toContain(name)
    }
  })
})
