import { assert, describe, it, layer } from "@effect/vitest"
import { Context, Deferred, Effect, Either, Exit, Fiber, Layer, Scope, TestClock } from "effect"
import { strToU8, zipSync } from "fflate"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { DeployProblem } from "../src/HandlerRuntime.js"
import { HandlerRuntime, unzipBundle } from "../src/HandlerRuntime.js"
import * as Runtime from "../src/HandlerRuntime.js"
import { bundleOf, completed, failedWith, prepare, request, timedOut, zipOf } from "./fixtures/runtime/bundles.js"

const problemOf = <A>(effect: Effect.Effect<A, DeployProblem, HandlerRuntime>) =>
  Effect.gen(function*() {
    const result = yield* Effect.either(effect)
    if (Either.isRight(result)) throw new Error(`expected a DeployProblem, got ${JSON.stringify(result.right)}`)
    assert.strictEqual(result.left._tag, "DeployProblem")
    assert.strictEqual(result.left.message, "Function deployment failed.")
    return result.left.trace ?? ""
  })

describe("unzipBundle", () => {
  it.effect("keeps files under POSIX paths, drops directory entries and ./ prefixes", () =>
    Effect.gen(function*() {
      const zip = zipSync({ "handler.py": strToU8("x"), "pkg": { "mod.py": strToU8("y") }, "./dot.txt": strToU8("z") })
      const bundle = yield* unzipBundle(zip)
      assert.deepStrictEqual([...bundle.files.keys()].sort(), ["dot.txt", "handler.py", "pkg/mod.py"])
      assert.strictEqual(new TextDecoder().decode(bundle.files.get("pkg/mod.py")), "y")
    }))

  it.effect("refuses zip-slip paths", () =>
    Effect.gen(function*() {
      for (const name of ["../evil.py", "a/../../evil.py", "/etc/passwd", "C:/evil.py", "a\\..\\evil.py"]) {
        const problem = yield* Effect.flip(unzipBundle(zipOf({ "handler.py": "", [name]: "evil" })))
        assert.strictEqual(problem.message, "Function deployment failed.")
        assert.include(problem.trace ?? "", "Refusing zip entry", name)
      }
    }))

  it.effect("refuses bundles over the caps, and bytes that are not a zip", () =>
    Effect.gen(function*() {
      const zip = zipOf({ "a.py": "1234567890", "b.py": "1234567890" })
      const files = yield* Effect.flip(unzipBundle(zip, { maxZipBytes: 1e6, maxFiles: 1, maxUncompressedBytes: 1e6 }))
      assert.include(files.trace ?? "", "more than 1 files")
      const bytes = yield* Effect.flip(unzipBundle(zip, { maxZipBytes: 1e6, maxFiles: 10, maxUncompressedBytes: 15 }))
      assert.include(bytes.trace ?? "", "more than 15 bytes")
      const big = yield* Effect.flip(unzipBundle(zip, { maxZipBytes: 10, maxFiles: 10, maxUncompressedBytes: 1e6 }))
      assert.include(big.trace ?? "", "the limit is 10")
      const garbage = yield* Effect.flip(unzipBundle(strToU8("not a zip at all")))
      assert.include(garbage.trace ?? "", "not a valid zip")
    }))
})

describe("HandlerRuntime.prepare", () => {
  layer(Runtime.layer)((it) => {
    it.effect("resolves Python at functionPath, else handler.js, and extracts the bundle", () =>
      Effect.gen(function*() {
        const python = yield* prepare({ "handler.py": "def handle():\n    return 1\n", "handler.js": "" })
        assert.strictEqual(python.kind, "python")
        assert.strictEqual(python.entry, "handler.py")
        assert.isTrue(fs.existsSync(path.join(python.dir, "handler.py")))
        const custom = yield* prepare({ "src/main.py": "def handle(data):\n    return data\n" }, "./src/main.py")
        assert.strictEqual(custom.entry, "src/main.py")
        assert.strictEqual(custom.functionPath, "src/main.py")
        const js = yield* prepare({ "handler.js": "export const handle = () => 1" })
        assert.strictEqual(js.kind, "javascript")
        assert.strictEqual(js.entry, "handler.js")
      }))

    it.effect("no handler file", () =>
      Effect.gen(function*() {
        const trace = yield* problemOf(prepare({ "other.py": "def handle():\n    pass\n" }))
        assert.include(trace, "No file at handler.py")
        const custom = yield* problemOf(prepare({ "handler.py": "" }, "src/main.py"))
        assert.include(custom, "No file at src/main.py")
        const slip = yield* problemOf(prepare({ "handler.py": "" }, "../handler.py"))
        assert.include(slip, "leaves the bundle")
      }))

    it.effect("no top-level handle", () =>
      Effect.gen(function*() {
        const nested = yield* problemOf(prepare({
          "handler.py": "if True:\n    def handle():\n        pass\nclass X:\n    def handle(self):\n        pass\n"
        }))
        assert.include(nested, "must contain a function named 'handle'")
        const annotationOnly = yield* problemOf(prepare({ "handler.py": "handle: int\n" }))
        assert.include(annotationOnly, "must contain a function named 'handle'")
      }))

    it.effect("arguments outside data, client, secrets, function_call_info", () =>
      Effect.gen(function*() {
        const trace = yield* problemOf(prepare({ "handler.py": "def handle(foo, data):\n    pass\n" }))
        assert.include(trace, "['foo']")
        assert.include(trace, "not allowed")
        // The last top-level handle wins, in both directions.
        const lastBad = yield* problemOf(prepare({
          "handler.py": "def handle(data):\n    pass\ndef handle(request):\n    pass\n"
        }))
        assert.include(lastBad, "['request']")
        const lastGood = yield* prepare({ "handler.py": "def handle(request):\n    pass\nhandle = print\n" })
        assert.strictEqual(lastGood.kind, "python")
      }))

    it.effect("a syntax error", () =>
      Effect.gen(function*() {
        const trace = yield* problemOf(prepare({ "handler.py": "def handle(:\n    pass\n" }))
        assert.include(trace, "SyntaxError")
        assert.include(trace, "handler.py")
      }))

    it.effect("a JavaScript handler without handle, or that does not load", () =>
      Effect.gen(function*() {
        const missing = yield* problemOf(prepare({ "handler.js": "export const other = () => 1" }))
        assert.include(missing, "does not export a function named handle")
        const syntax = yield* problemOf(prepare({ "handler.mjs": "export const handle = ( =>" }))
        assert.include(syntax, "SyntaxError")
        const throws = yield* problemOf(prepare({ "handler.js": "throw new Error('at load time')" }))
        assert.include(throws, "at load time")
      }))

    it.effect("an in-process handler, with logs, a failure and a timeout", () =>
      Effect.gen(function*() {
        const runtime = yield* HandlerRuntime
        yield* runtime.registerInProcess("echo", ({ data, functionCallInfo, log, secrets }) => {
          log("first\nsecond")
          return { data, secrets, id: functionCallInfo.call_id }
        })
        yield* runtime.registerInProcess("boom", async () => {
          throw new TypeError("nope")
        })
        yield* runtime.registerInProcess("never", () => new Promise(() => undefined))
        const empty = yield* bundleOf({})
        const echo = yield* runtime.prepare(9, empty, "inprocess:echo")
        assert.strictEqual(echo.entry, "inprocess:echo")
        const outcome = completed(yield* runtime.run(request(echo)))
        assert.deepStrictEqual(outcome.response, { data: { x: 1 }, secrets: { key: "s3cret" }, id: 42 })
        assert.deepStrictEqual(outcome.logs.map((line) => line.message), ["first", "second"])
        const boom = yield* runtime.prepare(9, empty, "inprocess:boom")
        assert.strictEqual(failedWith(yield* runtime.run(request(boom))).error.message, "TypeError: nope")
        const never = yield* runtime.prepare(9, empty, "inprocess:never")
        const waiting = yield* Effect.fork(runtime.run(request(never, { timeoutMillis: 50 })))
        yield* TestClock.adjust(50)
        timedOut(yield* Fiber.join(waiting))
        const unknown = yield* problemOf(runtime.prepare(9, empty, "inprocess:nobody"))
        assert.include(unknown, "nobody")
      }))
  })
})

describe("HandlerRuntime without python3", () => {
  layer(Runtime.layerWith({ python: "effect-cdf-no-such-python" }))((it) => {
    it.effect("checks handle with the regex fallback, and calls fail with a clear message", () =>
      Effect.gen(function*() {
        const runtime = yield* HandlerRuntime
        const ok = yield* prepare({ "handler.py": "import x\nasync def handle(data, secrets):\n    pass\n" })
        const outcome = failedWith(yield* runtime.run(request(ok)))
        assert.include(outcome.error.message, "python3")
        const variants = yield* prepare({ "handler.py": "def handle(foo):\n    pass\nhandle: object = print\n" })
        assert.strictEqual(variants.kind, "python")
        const bad = yield* problemOf(prepare({ "handler.py": "def handle(\n    data,\n    foo=1,\n):\n    pass\n" }))
        assert.include(bad, "foo")
        const none = yield* problemOf(prepare({ "handler.py": "    def handle():\n        pass\n" }))
        assert.include(none, "must contain a function named 'handle'")
      }))
  })
})

describe("HandlerRuntime lifecycle", () => {
  it.live("closing the layer kills running calls and warm workers and deletes its work directory", () =>
    Effect.gen(function*() {
      const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-cdf-runtime-test-"))
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(Runtime.layerWith({ workDir }), scope)
      const runtime = Context.get(context, HandlerRuntime)
      const js = yield* runtime.prepare(1, yield* bundleOf({ "handler.js": "export const handle = () => 1" }))
      completed(yield* runtime.run(request(js)))
      const python = yield* runtime.prepare(
        2,
        yield* bundleOf({
          "handler.py": "import os, time\ndef handle():\n    print(os.getpid())\n    time.sleep(30)\n"
        })
      )
      const pid = yield* Deferred.make<number>()
      yield* Effect.fork(runtime.run(request(python, {
        onLog: (line) => Deferred.unsafeDone(pid, Effect.succeed(Number(line.message)))
      })))
      const running = yield* Deferred.await(pid)
      assert.strictEqual(fs.readdirSync(workDir).length, 1)
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual(fs.readdirSync(workDir), [])
      assert.throws(() => process.kill(running, 0))
      fs.rmSync(workDir, { recursive: true, force: true })
    }))

  it.live("release deletes a prepared handler's files", () =>
    Effect.gen(function*() {
      const runtime = yield* HandlerRuntime
      const handler = yield* prepare({ "handler.js": "export const handle = () => 1" })
      assert.isTrue(fs.existsSync(handler.dir))
      yield* runtime.release(handler)
      assert.isFalse(fs.existsSync(handler.dir))
      failedWith(yield* runtime.run(request(handler)))
    }).pipe(Effect.provide(Runtime.layer)))
})
