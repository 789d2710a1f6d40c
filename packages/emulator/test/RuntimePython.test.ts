import { assert, describe, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { LogLine } from "../src/HandlerRuntime.js"
import { layer as runtimeLayer } from "../src/HandlerRuntime.js"
import {
  callInfo,
  completed,
  failedWith,
  prepareAndRun,
  prepared,
  runPastTimeout,
  timedOut
} from "./fixtures/runtime/bundles.js"

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && key in value ? Reflect.get(value, key) : undefined

/** Whether a process exists and is not a zombie waiting to be reaped. */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

/** Waits (in real time, up to two seconds) for a process that is not our child to go. */
const gone = (pid: number): Promise<boolean> =>
  new Promise((resolve) => {
    const deadline = Date.now() + 2000
    const poll = () => {
      if (!isAlive(pid)) resolve(true)
      else if (Date.now() > deadline) resolve(false)
      else setTimeout(poll, 10)
    }
    poll()
  })

const py = (...lines: ReadonlyArray<string>) => ({ "handler.py": lines.join("\n") + "\n" })

describe("HandlerRuntime, Python handlers", () => {
  layer(runtimeLayer)((it) => {
    it.effect("a completed call gets data, secrets and call info; client is None", () =>
      Effect.gen(function*() {
        const outcome = yield* prepareAndRun(py(
          "def handle(client, data, secrets, function_call_info):",
          "    return {'data': data, 'secrets': secrets, 'info': function_call_info, 'client': client}"
        ))
        assert.deepStrictEqual(completed(outcome).response, {
          data: { x: 1 },
          secrets: { key: "s3cret" },
          info: callInfo,
          client: null
        })
      }))

    it.effect("handle variants: no args, only data, async def, a callable, an annotated assignment", () =>
      Effect.gen(function*() {
        const none = yield* prepareAndRun(py("def handle():", "    return 'none'"))
        assert.strictEqual(completed(none).response, "none")
        const onlyData = yield* prepareAndRun(py("def handle(data):", "    return data['x'] + 1"))
        assert.strictEqual(completed(onlyData).response, 2)
        const asyncDef = yield* prepareAndRun(py(
          "import asyncio",
          "async def handle(data, secrets):",
          "    await asyncio.sleep(0.01)",
          "    return [data, secrets]"
        ))
        assert.deepStrictEqual(completed(asyncDef).response, [{ x: 1 }, { key: "s3cret" }])
        const callable = yield* prepareAndRun(py(
          "class Handler:",
          "    def __call__(self, function_call_info):",
          "        return function_call_info['call_id']",
          "handle = Handler()"
        ))
        assert.strictEqual(completed(callable).response, 42)
        const annotated = yield* prepareAndRun(py(
          "from typing import Callable",
          "def _impl(data):",
          "    return 'annotated'",
          "def handle(data):",
          "    return 'shadowed'",
          "handle: Callable = _impl"
        ))
        assert.strictEqual(completed(annotated).response, "annotated")
      }))

    it.effect("a nested functionPath imports from its folder and from the root; absent data is {}", () =>
      Effect.gen(function*() {
        const outcome = yield* prepareAndRun(
          {
            "fn/handler.py":
              "from helper import value\nfrom shared.util import twice\ndef handle(data):\n    return [value, twice(2), data]\n",
            "fn/helper.py": "value = 'beside'\n",
            "shared/util.py": "def twice(n):\n    return 2 * n\n"
          },
          { data: undefined },
          "fn/handler.py"
        )
        assert.deepStrictEqual(completed(outcome).response, ["beside", 4, {}])
      }))

    it.effect("an exception is Failed with 'ExcType: msg' and the traceback", () =>
      Effect.gen(function*() {
        const outcome = yield* prepareAndRun(py("def handle(data):", "    return 1 / 0"))
        const error = failedWith(outcome).error
        assert.strictEqual(error.message, "ZeroDivisionError: division by zero")
        assert.include(error.trace ?? "", "Traceback")
        assert.include(error.trace ?? "", "handler.py")
        const importError = yield* prepareAndRun(py("import no_such_module_here", "def handle():", "    return 1"))
        assert.strictEqual(
          failedWith(importError).error.message,
          "ModuleNotFoundError: No module named 'no_such_module_here'"
        )
      }))

    it.effect("logs: stdout and stderr lines in order, timestamped, streamed while the handler runs", () =>
      Effect.gen(function*() {
        const gate = path.join(os.tmpdir(), `effect-cdf-gate-${process.pid}-${Math.random().toString(36).slice(2)}`)
        const streamed: Array<LogLine> = []
        const before = Date.now()
        const outcome = yield* prepareAndRun(
          py(
            "import os, sys, time",
            "print('module level')",
            "def handle(data):",
            "    print('one')",
            "    print('two\\nthree')",
            "    while not os.path.exists(data['gate']):",
            "        time.sleep(0.005)",
            "    print('to stderr', file=sys.stderr)",
            "    sys.stdout.write('no newline')",
            "    return 'done'"
          ),
          {
            data: { gate },
            onLog: (line) => {
              streamed.push(line)
              // The handler only gets past its loop once the test has seen 'three'.
              if (line.message === "three") fs.writeFileSync(gate, "")
            }
          }
        )
        fs.rmSync(gate, { force: true })
        const done = completed(outcome)
        assert.strictEqual(done.response, "done")
        assert.deepStrictEqual(
          done.logs.map((line) => line.message),
          ["module level", "one", "two", "three", "to stderr", "no newline"]
        )
        assert.deepStrictEqual(streamed, done.logs)
        for (const line of done.logs) assert.isAtLeast(line.timestamp, before)
      }))

    it.effect("a handler past its timeout is Timeout and its process is gone", () =>
      Effect.gen(function*() {
        let pid = 0
        const outcome = yield* runPastTimeout(
          py("import os, time", "def handle():", "    print(os.getpid())", "    time.sleep(30)"),
          {
            timeoutMillis: 1000,
            onLog: (line) => {
              pid = Number(line.message)
            }
          }
        )
        const timeout = timedOut(outcome)
        assert.include(timeout.error.message, "timed out")
        assert.isAbove(pid, 0)
        assert.isFalse(isAlive(pid))
      }))

    it.effect("interruption kills the process", () =>
      Effect.gen(function*() {
        const handler = yield* prepared(py(
          "import os, subprocess, time",
          "def handle():",
          "    child = subprocess.Popen(['sleep', '30'])",
          "    print(os.getpid(), child.pid)",
          "    time.sleep(30)"
        ))
        const pids = yield* Deferred.make<ReadonlyArray<number>>()
        const fiber = yield* Effect.fork(handler.run({
          onLog: (line) => Deferred.unsafeDone(pids, Effect.succeed(line.message.split(" ").map(Number)))
        }))
        const [pid, child] = yield* Deferred.await(pids)
        assert.isTrue(isAlive(pid))
        yield* Fiber.interrupt(fiber)
        assert.isFalse(isAlive(pid))
        // The handler's own child was in its process group: it was signalled too, and goes on its own time.
        assert.isTrue(yield* Effect.promise(() => gone(child)))
      }))

    it.effect("a response over the limit is Failed, naming the limit", () =>
      Effect.gen(function*() {
        const outcome = yield* prepareAndRun(py("def handle():", "    return 'x' * 2000"), {
          responseSizeLimitBytes: 1000
        })
        const error = failedWith(outcome).error
        assert.include(error.message, "too large")
        assert.include(error.message, "1000 bytes")
      }))

    it.effect("a response that json.dumps refuses is Failed", () =>
      Effect.gen(function*() {
        const outcome = yield* prepareAndRun(py("def handle():", "    return {1, 2}"))
        const error = failedWith(outcome).error
        assert.include(error.message, "not JSON serialisable")
        assert.include(error.message, "set")
        const nan = yield* prepareAndRun(py("def handle():", "    return float('nan')"))
        assert.include(failedWith(nan).error.message, "not JSON serialisable")
      }))

    it.effect("prints cannot corrupt the result; None is null; envVars reach os.environ", () =>
      Effect.gen(function*() {
        const outcome = yield* prepareAndRun(
          py(
            "import os",
            "def handle():",
            "    print('{\"kind\": \"ok\", \"response\": 666}')",
            "    return os.environ.get('GREETING')"
          ),
          { envVars: { GREETING: "hej" } }
        )
        assert.strictEqual(completed(outcome).response, "hej")
        const none = yield* prepareAndRun(py("def handle():", "    pass"))
        assert.strictEqual(completed(none).response, null)
      }))

    it.effect("a warm runner serves many calls; a handler reading stdin gets EOF, not the next call", () =>
      Effect.gen(function*() {
        const handler = yield* prepared(py(
          "import os, sys",
          "count = 0",
          "def handle(data):",
          "    global count",
          "    count += 1",
          "    return {'pid': os.getpid(), 'count': count, 'stdin': sys.stdin.read(), 'n': data['n']}"
        ))
        const first = completed(yield* handler.run({ data: { n: 1 } }))
        const second = completed(yield* handler.run({ data: { n: 2 } }))
        assert.deepStrictEqual(first.response, { pid: field(first.response, "pid"), count: 1, stdin: "", n: 1 })
        // The same interpreter, its module state kept, as in a warm CDF container.
        assert.deepStrictEqual(second.response, { pid: field(first.response, "pid"), count: 2, stdin: "", n: 2 })
      }))

    it.effect("an allocation over the memory cap is Failed with a memory message", () =>
      Effect.gen(function*() {
        const outcome = yield* prepareAndRun(py("def handle():", "    return len(bytearray(512 * 1024 * 1024))"), {
          memoryMb: 128
        })
        assert.include(failedWith(outcome).error.message, "Memory limit exceeded")
      }))

    it.effect("sys.exit and a killed process are Failed", () =>
      Effect.gen(function*() {
        const exit = yield* prepareAndRun(py("import sys", "def handle():", "    sys.exit(3)"))
        assert.strictEqual(failedWith(exit).error.message, "SystemExit: 3")
        const killed = yield* prepareAndRun(
          py("import os, signal", "def handle():", "    os.kill(os.getpid(), signal.SIGKILL)")
        )
        assert.include(failedWith(killed).error.message, "SIGKILL")
      }))
  })
})
