import { CogniteFunction, Ids } from "@effect-cdf/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option, Redacted, Ref, Schedule } from "effect"
import { unzipSync } from "fflate"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as nodePath from "node:path"
import { Functions } from "../src/Functions.js"
import type { DeployOptions, DeployProgress } from "../src/Functions.js"
import {
  BASE_URL,
  drive,
  fakeCdf,
  fn,
  itemsOf,
  PROJECT_PATH,
  type Reply,
  type Seen,
  TOKEN,
  withTelemetry
} from "./support/fakeCdf.js"

const LIMITS = {
  timeoutMinutes: 9,
  cpuCores: { min: 1, max: 1, default: 1 },
  memoryGb: { min: 1.5, max: 1.5, default: 1.5 },
  runtimes: ["py310", "py311", "py312", "py313"],
  responseSizeMb: 1
}

const HANDLER = "def handle(data, client):\n    return {\"ok\": True}\n"

const byIdsEcho = (seen: Seen): Reply => ({
  status: 200,
  body: {
    items: itemsOf(seen).map((item, i) =>
      typeof item === "object" && item !== null && "id" in item && typeof item.id === "number"
        ? fn(item.id)
        : fn(5000 + i, {
          externalId: typeof item === "object" && item !== null && "externalId" in item ? item.externalId : "?"
        })
    )
  }
})

describe("Functions requests", () => {
  it.effect("create posts one function, with secrets as plain strings on the wire and nowhere else", () =>
    Effect.gen(function*() {
      const secret = "s3cr3t-value-91f0"
      const fake = fakeCdf((seen) =>
        seen.method === "POST" && seen.path === "/functions"
          ? { status: 201, body: { items: [fn(7, { status: "Queued", secrets: { "api-key": "***" } })] } }
          : undefined
      )
      const write = CogniteFunction.FunctionWrite.make({
        name: "hello",
        fileId: Ids.FileId.make(42),
        externalId: Ids.ExternalId.make("hello"),
        secrets: { "api-key": Redacted.make(secret) },
        envVars: { MODE: "test" },
        cpu: 1,
        runtime: "py312"
      })
      const [exit, telemetry] = yield* withTelemetry(
        Effect.flatMap(Functions, (functions) => functions.create(write)).pipe(Effect.provide(fake.layer))
      )
      assert.isTrue(Exit.isSuccess(exit))
      if (Exit.isSuccess(exit)) {
        assert.strictEqual(exit.value.id, 7)
        assert.strictEqual(exit.value.status, "Queued")
      }
      assert.strictEqual(fake.requests.length, 1)
      const [seen] = fake.requests
      assert.strictEqual(seen.method, "POST")
      assert.strictEqual(seen.path, "/functions")
      assert.deepStrictEqual(seen.json, {
        items: [{
          name: "hello",
          fileId: 42,
          externalId: "hello",
          secrets: { "api-key": secret },
          envVars: { MODE: "test" },
          cpu: 1,
          runtime: "py312"
        }]
      })
      assert.include(telemetry.spans, "Functions.create")
      assert.notInclude(telemetry.text(), secret)
    }))

  it.effect("create refuses an invalid write before sending it", () =>
    Effect.gen(function*() {
      const fake = fakeCdf(() => ({ status: 201, body: { items: [fn(1)] } }))
      const functions = yield* Effect.provide(Functions, fake.layer)
      // A plain object that only looks like a FunctionWrite: encoding checks it.
      const bad = { name: "", fileId: Ids.FileId.make(1) } as CogniteFunction.FunctionWrite
      const error = yield* Effect.flip(functions.create(bad))
      assert.strictEqual(error._tag, "InvalidInput")
      assert.strictEqual(fake.requests.length, 0)
    }))

  it.effect("list sends every filter field and asks for all functions by default", () =>
    Effect.gen(function*() {
      const fake = fakeCdf((seen) =>
        seen.path === "/functions/list" ? { status: 200, body: { items: [fn(1), fn(2)] } } : undefined
      )
      const functions = yield* Effect.provide(Functions, fake.layer)
      const all = yield* functions.list()
      assert.deepStrictEqual(all.map((f) => f.id), [1, 2])
      yield* functions.list({
        filter: { name: "a", status: "Ready", externalIdPrefix: "x.", createdTime: { min: 5 }, owner: undefined },
        limit: 3
      })
      assert.deepStrictEqual(fake.requests.map((r) => [r.method, r.path, r.json]), [
        ["POST", "/functions/list", { filter: {}, limit: 10_000 }],
        ["POST", "/functions/list", {
          filter: { name: "a", status: "Ready", externalIdPrefix: "x.", createdTime: { min: 5 } },
          limit: 3
        }]
      ])
      const error = yield* Effect.flip(functions.list({ limit: 0 }))
      assert.strictEqual(error._tag, "InvalidInput")
      assert.strictEqual(fake.requests.length, 2)
    }))

  it.effect("retrieve gets an id directly and looks an external id up; a missing one is NotFound or None", () =>
    Effect.gen(function*() {
      const fake = fakeCdf((seen) => {
        if (seen.method === "GET" && seen.path === "/functions/7") return { status: 200, body: fn(7) }
        if (seen.method === "GET" && seen.path === "/functions/8") {
          return { status: 404, body: { error: { code: 404, message: "Function 8 not found" } } }
        }
        if (seen.path === "/functions/byids") {
          const [item] = itemsOf(seen)
          return typeof item === "object" && item !== null && "externalId" in item && item.externalId === "known"
            ? { status: 200, body: { items: [fn(9, { externalId: "known" })] } }
            : { status: 200, body: { items: [] } }
        }
        return undefined
      })
      const functions = yield* Effect.provide(Functions, fake.layer)
      assert.strictEqual((yield* functions.retrieve(7)).id, 7)
      assert.strictEqual((yield* functions.retrieve({ id: 7 })).id, 7)
      assert.strictEqual((yield* functions.retrieve("known")).id, 9)
      assert.strictEqual((yield* functions.retrieve({ externalId: "known" })).id, 9)
      assert.strictEqual((yield* Effect.flip(functions.retrieve(8)))._tag, "NotFound")
      assert.strictEqual((yield* Effect.flip(functions.retrieve("gone")))._tag, "NotFound")
      assert.isTrue(Option.isNone(yield* functions.retrieveOption(8)))
      assert.isTrue(Option.isNone(yield* functions.retrieveOption("gone")))
      assert.deepStrictEqual(Option.map(yield* functions.retrieveOption("known"), (f) => f.id), Option.some(9))
      assert.deepStrictEqual(fake.requests[2].json, { items: [{ externalId: "known" }], ignoreUnknownIds: true })
      const before = fake.requests.length
      for (const bad of [0, -1, 1.5, 2 ** 53, "", "x".repeat(256)]) {
        assert.strictEqual((yield* Effect.flip(functions.retrieve(bad)))._tag, "InvalidInput")
      }
      assert.strictEqual(fake.requests.length, before)
    }))

  it.effect("retrieveMany sends chunks of 10 with ignoreUnknownIds and returns every item in order", () =>
    Effect.gen(function*() {
      const fake = fakeCdf((seen) => seen.path === "/functions/byids" ? byIdsEcho(seen) : undefined)
      const functions = yield* Effect.provide(Functions, fake.layer)
      const refs = Array.from({ length: 25 }, (_, i) => i + 1)
      const found = yield* functions.retrieveMany([...refs, 3], { ignoreUnknownIds: true })
      assert.deepStrictEqual(found.map((f) => f.id), refs)
      // Chunks run concurrently: compare the set of chunks, not their arrival order.
      assert.deepStrictEqual(
        fake.requests.map((r) => JSON.stringify(r.json)).sort(),
        [refs.slice(0, 10), refs.slice(10, 20), refs.slice(20)]
          .map((chunk) => JSON.stringify({ items: chunk.map((id) => ({ id })), ignoreUnknownIds: true })).sort()
      )
      for (const seen of fake.requests) assert.deepStrictEqual([seen.method, seen.path], ["POST", "/functions/byids"])
      yield* functions.retrieveMany(["a", 1])
      assert.deepStrictEqual(fake.requests[3].json, {
        items: [{ externalId: "a" }, { id: 1 }],
        ignoreUnknownIds: false
      })
      assert.deepStrictEqual(yield* functions.retrieveMany([]), [])
      assert.strictEqual(fake.requests.length, 4)
    }))

  it.effect("delete sends chunks of 10, ids before external ids", () =>
    Effect.gen(function*() {
      const fake = fakeCdf((seen) => seen.path === "/functions/delete" ? { status: 200, body: {} } : undefined)
      const functions = yield* Effect.provide(Functions, fake.layer)
      const refs = Array.from({ length: 25 }, (_, i) => i % 2 === 0 ? `xid-${i}` : { id: i })
      yield* functions.delete(refs)
      for (const seen of fake.requests) assert.deepStrictEqual([seen.method, seen.path], ["POST", "/functions/delete"])
      const ids = Array.from({ length: 12 }, (_, k) => ({ id: 2 * k + 1 }))
      const xids = Array.from({ length: 13 }, (_, k) => ({ externalId: `xid-${2 * k}` }))
      const expected = [...ids, ...xids]
      // Chunks run concurrently: compare the set of chunks, not their arrival order.
      assert.deepStrictEqual(
        fake.requests.map((r) => JSON.stringify(itemsOf(r))).sort(),
        [expected.slice(0, 10), expected.slice(10, 20), expected.slice(20)].map((c) => JSON.stringify(c)).sort()
      )
      assert.strictEqual((fake.requests[0].json as { ignoreUnknownIds: boolean }).ignoreUnknownIds, false)
      yield* functions.delete([1], { ignoreUnknownIds: true })
      assert.deepStrictEqual(fake.requests[3].json, { items: [{ id: 1 }], ignoreUnknownIds: true })
      yield* functions.delete([])
      assert.strictEqual(fake.requests.length, 4)
    }))

  it.effect("limits is fetched once however often it is used; a failed fetch is not kept", () =>
    Effect.gen(function*() {
      const failures = yield* Ref.make(1)
      const fake = fakeCdf((seen) => {
        if (seen.path !== "/functions/limits") return undefined
        if (Effect.runSync(Ref.getAndUpdate(failures, (n) => n - 1)) > 0) {
          return { status: 403, body: { error: { code: 403, message: "no" } } }
        }
        return { status: 200, body: LIMITS }
      })
      const functions = yield* Effect.provide(Functions, fake.layer)
      assert.strictEqual((yield* Effect.flip(functions.limits))._tag, "Forbidden")
      const results = yield* Effect.all([functions.limits, functions.limits, functions.limits], {
        concurrency: "unbounded"
      })
      assert.strictEqual((yield* functions.limits).timeoutMinutes, 9)
      assert.deepStrictEqual(results.map((l) => l.responseSizeMb), [1, 1, 1])
      assert.deepStrictEqual(fake.requests.map((r) => [r.method, r.path]), [
        ["GET", "/functions/limits"],
        ["GET", "/functions/limits"]
      ])
    }))

  it.effect("status reads and activate posts /functions/status with no body", () =>
    Effect.gen(function*() {
      const fake = fakeCdf((seen) =>
        seen.path !== "/functions/status"
          ? undefined
          : seen.method === "GET"
          ? { status: 200, body: { status: "inactive" } }
          : { status: 202, body: { status: "requested" } }
      )
      const functions = yield* Effect.provide(Functions, fake.layer)
      assert.strictEqual((yield* functions.status).status, "inactive")
      assert.strictEqual((yield* functions.activate).status, "requested")
      assert.deepStrictEqual(fake.requests.map((r) => [r.method, r.path, r.text]), [
        ["GET", "/functions/status", undefined],
        ["POST", "/functions/status", undefined]
      ])
    }))
})

// ---------------------------------------------------------------------------------------------------------
// deploy
// ---------------------------------------------------------------------------------------------------------

interface DeployScript {
  /** How many file polls answer `uploaded: false` first. */
  readonly notUploadedPolls?: number
  /** The upload URL `POST /files` hands back; by default one on the CDF origin. */
  readonly uploadUrl?: string
  /** The statuses of the function: the create answer, then each GET. */
  readonly statuses?: ReadonlyArray<string>
  /** Extra fields of the last status answer (for example `error`). */
  readonly last?: Record<string, unknown>
}

const FILE_ID = 555
const FUNCTION_ID = 77

const deployFake = (script: DeployScript = {}, existing: ReadonlyArray<unknown> = []) => {
  let filePolls = 0
  let statusIndex = 0
  const statuses = script.statuses ?? ["Queued", "Deploying", "Deploying", "Ready"]
  const nextFunction = () => {
    const i = Math.min(statusIndex++, statuses.length - 1)
    return fn(FUNCTION_ID, {
      name: "hello",
      fileId: FILE_ID,
      status: statuses[i],
      ...(i === statuses.length - 1 ? script.last : {})
    })
  }
  const file = (uploaded: boolean) => ({
    id: FILE_ID,
    name: "hello.zip",
    uploaded,
    createdTime: 1,
    lastUpdatedTime: 1
  })
  return fakeCdf((seen) => {
    if (seen.method === "POST" && seen.path === "/files") {
      return {
        status: 201,
        body: {
          ...file(false),
          uploadUrl: script.uploadUrl ?? `${BASE_URL}${PROJECT_PATH}/files/upload/${FILE_ID}?token=up-1`
        }
      }
    }
    if (seen.method === "POST" && seen.path === "/functions/byids") return { status: 200, body: { items: existing } }
    if (seen.method === "PUT" && seen.path === `/files/upload/${FILE_ID}`) return { status: 200 }
    if (seen.method === "PUT" && seen.url.host === "storage.example.net") return { status: 200 }
    if (seen.method === "POST" && seen.path === "/files/byids") {
      return { status: 200, body: { items: [file(filePolls++ >= (script.notUploadedPolls ?? 0))] } }
    }
    if (seen.method === "POST" && seen.path === "/functions") return { status: 201, body: { items: [nextFunction()] } }
    if (seen.method === "GET" && seen.path === `/functions/${FUNCTION_ID}`) return { status: 200, body: nextFunction() }
    return undefined
  })
}

const deploy = (options: DeployOptions) => Effect.flatMap(Functions, (functions) => functions.deploy(options))

const unzipped = (seen: Seen | undefined) => {
  const bytes = seen?.bytes
  if (bytes === undefined) return {}
  const files = unzipSync(bytes)
  return Object.fromEntries(Object.entries(files).map(([name, data]) => [name, new TextDecoder().decode(data)]))
}

describe("Functions.deploy", () => {
  it.effect("a signed upload URL on a storage host gets the zip with no token and no CDF header", () =>
    Effect.gen(function*() {
      const fake = deployFake({ uploadUrl: "https://storage.example.net/bucket/hello.zip?sig=abc" })
      const exit = yield* drive(deploy({ name: "hello", source: { files: { "handler.py": HANDLER } } })).pipe(
        Effect.provide(fake.layer),
        Effect.exit
      )
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      const put = fake.requests.find((r) => r.method === "PUT")
      assert.strictEqual(put?.url.host, "storage.example.net")
      assert.strictEqual(put?.headers.authorization, undefined)
      assert.strictEqual(put?.headers["cdf-version"], undefined)
      // every request to the CDF origin carries the token
      for (const request of fake.requests.filter((r) => r.url.host !== "storage.example.net")) {
        assert.strictEqual(request.headers.authorization, `Bearer ${TOKEN}`)
      }
    }))

  it.effect("zips in-memory files, uploads them, waits for the upload, creates the function and waits for Ready", () =>
    Effect.gen(function*() {
      const fake = deployFake({ notUploadedPolls: 2 })
      const events: Array<DeployProgress> = []
      const secret = "deploy-secret-4412"
      const [exit, telemetry] = yield* withTelemetry(
        drive(deploy({
          name: "hello",
          externalId: "hello",
          source: { files: { "handler.py": HANDLER, "lib/util.py": "X = 1\n", "data.bin": new Uint8Array([0, 1, 2]) } },
          secrets: { token1: secret, other: Redacted.make("second-secret-7") },
          owner: "me@example.com",
          metadata: { team: "a" },
          onProgress: (event) => Effect.sync(() => events.push(event))
        })).pipe(Effect.provide(fake.layer))
      )
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      if (Exit.isSuccess(exit)) {
        assert.strictEqual(exit.value.id, FUNCTION_ID)
        assert.strictEqual(exit.value.status, "Ready")
      }
      assert.deepStrictEqual(fake.requests.map((r) => `${r.method} ${r.path}${r.url.search}`), [
        "POST /functions/byids",
        "POST /files?overwrite=true",
        `PUT /files/upload/${FILE_ID}?token=up-1`,
        "POST /files/byids",
        "POST /files/byids",
        "POST /files/byids",
        "POST /functions",
        `GET /functions/${FUNCTION_ID}`,
        `GET /functions/${FUNCTION_ID}`,
        `GET /functions/${FUNCTION_ID}`
      ])
      const [lookup, createFile, put, poll] = fake.requests
      assert.deepStrictEqual(lookup.json, { items: [{ externalId: "hello" }], ignoreUnknownIds: true })
      assert.deepStrictEqual(createFile.json, { name: "hello.zip", externalId: "hello" })
      assert.strictEqual(put.headers["content-type"], "application/zip")
      assert.deepStrictEqual(unzipped(put), {
        "data.bin": "\u0000\u0001\u0002",
        "handler.py": HANDLER,
        "lib/util.py": "X = 1\n"
      })
      assert.deepStrictEqual(poll.json, { items: [{ id: FILE_ID }] })
      // the content hash and the secrets' slow hash go into metadata beside the user's own
      const sent = JSON.stringify(fake.requests[6].json)
      const contentHash = /"effect-cdf-hash":"(sha256:[0-9a-f]{64})"/.exec(sent)?.[1]
      const secretsHash = /"effect-cdf-secrets-hash":"(pbkdf2:[0-9a-f]{64})"/.exec(sent)?.[1]
      assert.isDefined(contentHash)
      assert.isDefined(secretsHash)
      assert.deepStrictEqual(fake.requests[6].json, {
        items: [{
          name: "hello",
          fileId: FILE_ID,
          externalId: "hello",
          owner: "me@example.com",
          functionPath: "handler.py",
          secrets: { token1: secret, other: "second-secret-7" },
          metadata: { team: "a", "effect-cdf-hash": contentHash, "effect-cdf-secrets-hash": secretsHash }
        }]
      })
      assert.deepStrictEqual(events.map((e) => e.stage === "status" ? `status ${e.status}` : e.stage), [
        "zipped",
        "uploaded",
        "created",
        "status Queued",
        "status Deploying",
        "status Ready"
      ])
      const zipped = events[0]
      assert.isTrue(zipped.stage === "zipped" && zipped.files === 3 && zipped.bytes === put.bytes?.length)
      for (
        const span of [
          "Functions.deploy",
          "Functions.deploy.upload",
          "Functions.deploy.awaitUploaded",
          "Functions.create"
        ]
      ) {
        assert.include(telemetry.spans, span)
      }
      assert.notInclude(telemetry.text(), secret)
      assert.notInclude(telemetry.text(), "second-secret-7")
    }))

  it.effect("polls the upload at 250 ms, 500 ms, ... and the function at 0.5 s, 1 s, ... up to pollInterval", () =>
    Effect.gen(function*() {
      const fake = deployFake({
        notUploadedPolls: 3,
        statuses: ["Queued", "Deploying", "Deploying", "Deploying", "Deploying", "Deploying", "Ready"]
      })
      yield* drive(deploy({ name: "hello", source: { files: { "handler.py": HANDLER } }, pollInterval: "3 seconds" }))
        .pipe(Effect.provide(fake.layer))
      const at = (method: string, path: string) =>
        fake.requests.filter((r) => r.method === method && r.path === path).map((r) => r.at)
      assert.deepStrictEqual(at("POST", "/files/byids"), [0, 250, 750, 1750])
      assert.deepStrictEqual(at("POST", "/functions"), [1750])
      assert.deepStrictEqual(at("GET", `/functions/${FUNCTION_ID}`), [2250, 3250, 5250, 8250, 11250, 14250])
      // No external id: the file gets none and is not overwritten.
      assert.strictEqual(fake.requests[0].url.search, "?overwrite=false")
      assert.deepStrictEqual(fake.requests[0].json, { name: "hello.zip" })
    }))

  it.effect("polls the build on the schedule given instead of the pollInterval backoff", () =>
    Effect.gen(function*() {
      const fake = deployFake({ statuses: ["Queued", "Deploying", "Deploying", "Ready"] })
      yield* drive(deploy({
        name: "hello",
        source: { files: { "handler.py": HANDLER } },
        schedule: Schedule.spaced("7 seconds")
      })).pipe(Effect.provide(fake.layer))
      const created = fake.requests.find((r) => r.method === "POST" && r.path === "/functions")
      const polls = fake.requests.filter((r) => r.method === "GET" && r.path === `/functions/${FUNCTION_ID}`)
      assert.deepStrictEqual(polls.map((r) => r.at - (created?.at ?? 0)), [7_000, 14_000, 21_000])
    }))

  it.effect("deploys a folder, skipping node_modules, __pycache__ and .git, in a stable order", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.promise(() => fs.mkdtemp(nodePath.join(os.tmpdir(), "effect-cdf-deploy-")))
      yield* Effect.addFinalizer(() => Effect.promise(() => fs.rm(dir, { recursive: true, force: true })))
      const write = (rel: string, content: string) =>
        Effect.promise(async () => {
          await fs.mkdir(nodePath.dirname(nodePath.join(dir, rel)), { recursive: true })
          await fs.writeFile(nodePath.join(dir, rel), content)
        })
      yield* write("src/handler.py", HANDLER)
      yield* write("src/b.py", "B = 2\n")
      yield* write("requirements.txt", "requests\n")
      yield* write("node_modules/left-pad/index.js", "x")
      yield* write("src/__pycache__/handler.cpython-312.pyc", "x")
      yield* write(".git/HEAD", "ref: refs/heads/main\n")
      const run = () => {
        const fake = deployFake()
        return drive(deploy({ name: "folder", source: { folder: dir }, functionPath: "src/handler.py" })).pipe(
          Effect.provide(fake.layer),
          Effect.as(fake)
        )
      }
      const first = yield* run()
      const put = first.requests[1]
      assert.deepStrictEqual(Object.keys(unzipped(put)), ["requirements.txt", "src/b.py", "src/handler.py"])
      assert.strictEqual((itemsOf(first.requests[3])[0] as { functionPath: string }).functionPath, "src/handler.py")
      const second = yield* run()
      assert.deepStrictEqual(second.requests[1].bytes, put.bytes, "the same folder zips to the same bytes")
    }).pipe(Effect.scoped))

  it.effect("leaves the entry point to the server: a bundle without handler.py is uploaded as it is", () =>
    Effect.gen(function*() {
      const fake = deployFake()
      yield* drive(deploy({ name: "js", source: { files: { "main.py": HANDLER } } })).pipe(Effect.provide(fake.layer))
      assert.deepStrictEqual(Object.keys(unzipped(fake.requests[1])), ["main.py"])
      assert.strictEqual((itemsOf(fake.requests[3])[0] as { functionPath: string }).functionPath, "handler.py")
    }))

  it.effect("an existing function with the external id is a Conflict before anything is uploaded", () =>
    Effect.gen(function*() {
      const fake = deployFake({}, [fn(12, { externalId: "hello" })])
      const error = yield* Effect.flip(
        drive(deploy({ name: "hello", externalId: "hello", source: { files: { "handler.py": HANDLER } } })).pipe(
          Effect.provide(fake.layer)
        )
      )
      assert.strictEqual(error._tag, "Conflict")
      assert.include(error.message, "already exists (id 12)")
      assert.deepStrictEqual(fake.requests.map((r) => `${r.method} ${r.path}`), ["POST /functions/byids"])
    }))

  it.effect("a Failed build is DeployFailed with the build's message and trace", () =>
    Effect.gen(function*() {
      const fake = deployFake({
        statuses: ["Queued", "Deploying", "Failed"],
        last: { error: { message: "Could not install requirements", trace: "ERROR: No matching distribution" } }
      })
      const error = yield* Effect.flip(
        drive(deploy({ name: "hello", source: { files: { "handler.py": HANDLER } } })).pipe(Effect.provide(fake.layer))
      )
      assert.strictEqual(error._tag, "DeployFailed")
      if (error._tag === "DeployFailed") {
        assert.strictEqual(error.functionId, FUNCTION_ID)
        assert.strictEqual(error.reason, "Could not install requirements")
        assert.strictEqual(error.trace, "ERROR: No matching distribution")
      }
    }))

  it.effect("stops waiting at waitTimeout with DeployFailed naming the last status", () =>
    Effect.gen(function*() {
      const fake = deployFake({ statuses: ["Queued", "Deploying"] })
      const error = yield* Effect.flip(
        drive(deploy({
          name: "hello",
          source: { files: { "handler.py": HANDLER } },
          waitTimeout: "30 seconds",
          pollInterval: "5 seconds"
        })).pipe(Effect.provide(fake.layer))
      )
      assert.strictEqual(error._tag, "DeployFailed")
      assert.include(error.message, "not Ready after 30 s (status Deploying)")
      const polls = fake.requests.filter((r) => r.method === "GET").length
      // 0.5 + 1 + 2 + 4 + 5 * 4 = 27.5 s, then one more at 30 s.
      assert.strictEqual(polls, 9)
    }))

  it.effect("a file that never reports uploaded ends the deploy with a timeout before any function is created", () =>
    Effect.gen(function*() {
      const fake = deployFake({ notUploadedPolls: Number.MAX_SAFE_INTEGER })
      const error = yield* Effect.flip(
        drive(deploy({ name: "hello", source: { files: { "handler.py": HANDLER } } })).pipe(Effect.provide(fake.layer))
      )
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "not reported uploaded within 60 s")
      assert.isFalse(fake.requests.some((r) => r.path === "/functions"))
    }))

  it.effect("bad input is InvalidInput with no request sent, and never quotes a secret", () =>
    Effect.gen(function*() {
      const fake = deployFake()
      const files = { "handler.py": HANDLER }
      const cases: ReadonlyArray<readonly [DeployOptions, string]> = [
        [{ name: "", source: { files } }, "name"],
        [{ name: "x".repeat(141), source: { files } }, "140"],
        [{ name: "ok", source: { files }, secrets: { "Bad_Name": "hidden-value-1" } }, "secret name"],
        [{ name: "ok", source: { files }, secrets: { token: "hidden-value-2" } }, "reserved"],
        [{ name: "ok", source: { files }, functionPath: "../handler.py" }, "functionPath"],
        [{ name: "ok", source: { files }, functionPath: "handler.js" }, ".py"],
        [{ name: "ok", source: { files }, runtime: "py27" as "py312" }, "runtime"],
        [{ name: "ok", source: { files }, envVars: { "BAD-NAME": "1" } }, "env var"],
        [{ name: "ok", source: { files }, externalId: "" }, "external id"],
        [{ name: "ok", source: { files }, waitTimeout: -1 }, "waitTimeout"],
        [{ name: "ok", source: { files: {} } }, "no files"],
        [{ name: "ok", source: { files: { "../escape.py": "x", "handler.py": HANDLER } } }, ".."],
        [{ name: "ok", source: { folder: "/definitely/not/here" } }, "no such folder"]
      ]
      for (const [options, expected] of cases) {
        const error = yield* Effect.flip(deploy(options).pipe(Effect.provide(fake.layer)))
        assert.strictEqual(error._tag, "InvalidInput", expected)
        assert.include(error.message, expected)
        assert.notInclude(error.message, "hidden-value")
      }
      assert.strictEqual(fake.requests.length, 0)
    }))
})
