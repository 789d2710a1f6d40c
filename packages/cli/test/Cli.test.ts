/**
 * End-to-end tests of the built `cdf-fn`: each test runs it in a child process against an emulator
 * started by this file (or against the emulator `cdf-fn` embeds), and checks its output and exit code.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Fn, TestEmulator } from "./support.js"
import {
  cleanEnv,
  cli,
  deployer,
  EXAMPLES,
  finished,
  functionFolder,
  json,
  SLOW_PY,
  spawnCli,
  startEmulator,
  versioned
} from "./support.js"

const APP_PY = `def handle(data):
    if data.get("path") == "/missing":
        return {"status_code": 404, "error_type": "NotFound", "message": "no such route"}
    return {"status_code": 200, "data": {"method": data.get("method"), "path": data.get("path"), "body": data.get("body")}}
`

let emulator: TestEmulator
let hello: Fn
let slow: Fn

beforeAll(async () => {
  emulator = await startEmulator()
  const deploy = deployer(emulator.env)
  const deployed = await Promise.all([
    deploy(path.join(EXAMPLES, "python-hello"), "hello"),
    deploy(functionFolder("slow", { "handler.py": SLOW_PY }), "slow"),
    deploy(functionFolder("app", { "handler.py": APP_PY }), "app")
  ])
  ;[hello, slow] = deployed.map((d) => d.function)
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
    for (const fn of [hello, slow]) expect(listed.get(fn.externalId)).toBe(fn.id)
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
    const deployed = (await deployer(emulator.env)(folder, "doomed")).function
    const removed = await cli(["functions", "delete", String(deployed.id)], emulator.env)
    expect(removed.code, removed.stderr).toBe(0)
    const gone = await cli(["functions", "get", String(deployed.id)], emulator.env)
    expect(gone.code).toBe(3)
    expect(gone.stderr).toMatch(/^error: NotFound \(HTTP 404/)
    expect(gone.stderr).toMatch(/request id: \S+/)
    expect(gone.stderr).not.toContain("    at ")
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
