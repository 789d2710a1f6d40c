import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option, Redacted } from "effect"
import { Schedules } from "../src/Schedules.js"
import type { CreateOptions } from "../src/Schedules.js"
import { fakeCdf, fn, itemsOf, type Reply, schedule, type Seen, withTelemetry } from "./support/fakeCdf.js"

/** Answers sessions, function lookups by external id, schedule creation, and records nothing else. */
const api = (seen: Seen): Reply | undefined => {
  if (seen.method === "POST" && seen.path === "/sessions") {
    return { status: 200, body: { items: [{ id: 456, status: "READY", nonce: "session-nonce-1" }] } }
  }
  if (seen.method === "POST" && seen.path === "/functions/byids") {
    const [item] = itemsOf(seen)
    return typeof item === "object" && item !== null && "externalId" in item && item.externalId === "my-fn"
      ? { status: 200, body: { items: [fn(1234, { externalId: "my-fn" })] } }
      : { status: 200, body: { items: [] } }
  }
  if (seen.method === "POST" && seen.path === "/functions/schedules") {
    return { status: 201, body: { items: [schedule(8012683333564363, { name: "nightly" })] } }
  }
  return undefined
}

const create = (options: CreateOptions) => Effect.flatMap(Schedules, (schedules) => schedules.create(options))

const base = { name: "nightly", cronExpression: "0 2 * * *" } as const

describe("Schedules.create", () => {
  it.effect("an explicit nonce is used as it is: no session is created", () =>
    Effect.gen(function*() {
      const fake = fakeCdf(api)
      const created = yield* create({
        ...base,
        function: 1234,
        nonce: Redacted.make("my-own-nonce"),
        clientCredentials: { clientId: "ignored", clientSecret: Redacted.make("ignored") },
        data: { full: true },
        description: "every night"
      }).pipe(Effect.provide(fake.layer))
      assert.strictEqual(created.id, 8012683333564363)
      assert.strictEqual(created.sessionId, 456)
      assert.deepStrictEqual(fake.requests.map((r) => [r.method, r.path, r.json]), [
        ["POST", "/functions/schedules", {
          items: [{
            name: "nightly",
            cronExpression: "0 2 * * *",
            functionId: 1234,
            description: "every night",
            data: { full: true },
            nonce: "my-own-nonce"
          }]
        }]
      ])
    }))

  it.effect("given client credentials create the session; an external id is resolved and sent as functionId only", () =>
    Effect.gen(function*() {
      const fake = fakeCdf(api, { clientCredentials: { clientId: "configured", clientSecret: Redacted.make("cfg") } })
      const [exit, telemetry] = yield* withTelemetry(
        create({
          ...base,
          function: "my-fn",
          clientCredentials: { clientId: "scheduler", clientSecret: Redacted.make("scheduler-secret-8") }
        }).pipe(Effect.provide(fake.layer))
      )
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(fake.requests.map((r) => [r.method, r.path, r.json]), [
        ["POST", "/functions/byids", { items: [{ externalId: "my-fn" }], ignoreUnknownIds: true }],
        ["POST", "/sessions", { items: [{ clientId: "scheduler", clientSecret: "scheduler-secret-8" }] }],
        ["POST", "/functions/schedules", {
          items: [{ name: "nightly", cronExpression: "0 2 * * *", functionId: 1234, nonce: "session-nonce-1" }]
        }]
      ])
      assert.include(telemetry.spans, "Schedules.create")
      assert.notInclude(telemetry.text(), "scheduler-secret-8")
      assert.notInclude(telemetry.text(), "session-nonce-1")
    }))

  it.effect("by default the session comes from the configured client credentials, else a token exchange", () =>
    Effect.gen(function*() {
      const configured = fakeCdf(api, {
        clientCredentials: { clientId: "configured", clientSecret: Redacted.make("configured-secret") }
      })
      yield* create({ ...base, function: { id: 1234 } }).pipe(Effect.provide(configured.layer))
      assert.deepStrictEqual(configured.requests[0].json, {
        items: [{ clientId: "configured", clientSecret: "configured-secret" }]
      })
      const exchange = fakeCdf(api)
      yield* create({ ...base, function: { externalId: "my-fn" } }).pipe(Effect.provide(exchange.layer))
      assert.deepStrictEqual(exchange.requests.map((r) => r.path), [
        "/functions/byids",
        "/sessions",
        "/functions/schedules"
      ])
      assert.deepStrictEqual(exchange.requests[1].json, { items: [{ tokenExchange: true }] })
    }))

  it.effect("bad input fails before any lookup or session", () =>
    Effect.gen(function*() {
      const fake = fakeCdf(api)
      const ok: CreateOptions = { ...base, function: "my-fn" }
      const cases: ReadonlyArray<readonly [CreateOptions, string]> = [
        [{ ...ok, cronExpression: "0 0 2 * * *" }, "5-field"],
        [{ ...ok, cronExpression: "61 * * * *" }, "cron"],
        [{ ...ok, name: "" }, "name"],
        [{ ...ok, description: "x".repeat(501) }, "500"],
        [{ ...ok, function: 0 }, "function id"],
        [{ ...ok, function: "" }, "external id"],
        [{ ...ok, nonce: Redacted.make("") }, "nonce"],
        [{ ...ok, data: JSON.parse("[]") }, "schedule"]
      ]
      for (const [options, expected] of cases) {
        const error = yield* Effect.flip(create(options).pipe(Effect.provide(fake.layer)))
        assert.strictEqual(error._tag, "InvalidInput", expected)
        assert.include(error.message, expected)
      }
      assert.strictEqual(fake.requests.length, 0)
    }))

  it.effect("an unknown external id is NotFound and no session is created", () =>
    Effect.gen(function*() {
      const fake = fakeCdf(api)
      const error = yield* Effect.flip(create({ ...base, function: "nope" }).pipe(Effect.provide(fake.layer)))
      assert.strictEqual(error._tag, "NotFound")
      assert.deepStrictEqual(fake.requests.map((r) => r.path), ["/functions/byids"])
    }))
})

describe("Schedules reads and deletes", () => {
  it.effect("list asks for every schedule by default and resolves a function filter to its id", () =>
    Effect.gen(function*() {
      const fake = fakeCdf((seen) =>
        seen.path === "/functions/schedules/list"
          ? { status: 200, body: { items: [schedule(1), schedule(2, { sessionId: "789" })] } }
          : api(seen)
      )
      const schedules = yield* Effect.provide(Schedules, fake.layer)
      const all = yield* schedules.list()
      assert.deepStrictEqual(all.map((s) => `${s.id} ${s.sessionId}`), ["1 456", "2 789"])
      yield* schedules.list({
        filter: { name: "n", function: "my-fn", createdTime: { max: 10 }, cronExpression: "* * * * *" },
        limit: 5
      })
      yield* schedules.list({ filter: { function: 42 } })
      assert.deepStrictEqual(fake.requests.map((r) => [r.method, r.path, r.json]), [
        ["POST", "/functions/schedules/list", { filter: {}, limit: 10_000 }],
        ["POST", "/functions/byids", { items: [{ externalId: "my-fn" }], ignoreUnknownIds: true }],
        ["POST", "/functions/schedules/list", {
          filter: { name: "n", functionId: 1234, createdTime: { max: 10 }, cronExpression: "* * * * *" },
          limit: 5
        }],
        ["POST", "/functions/schedules/list", { filter: { functionId: 42 }, limit: 10_000 }]
      ])
    }))

  it.effect("retrieve gets one schedule; a missing one is NotFound, or None with retrieveOption", () =>
    Effect.gen(function*() {
      const fake = fakeCdf((seen) =>
        seen.method !== "GET"
          ? undefined
          : seen.path === "/functions/schedules/5"
          ? { status: 200, body: schedule(5) }
          : { status: 404, body: { error: { code: 404, message: "not found" } } }
      )
      const schedules = yield* Effect.provide(Schedules, fake.layer)
      assert.strictEqual((yield* schedules.retrieve(5)).id, 5)
      assert.strictEqual((yield* Effect.flip(schedules.retrieve(6)))._tag, "NotFound")
      assert.deepStrictEqual(Option.map(yield* schedules.retrieveOption(5), (s) => s.id), Option.some(5))
      assert.isTrue(Option.isNone(yield* schedules.retrieveOption(6)))
      assert.deepStrictEqual(fake.requests.map((r) => r.path), [
        "/functions/schedules/5",
        "/functions/schedules/6",
        "/functions/schedules/5",
        "/functions/schedules/6"
      ])
      assert.strictEqual((yield* Effect.flip(schedules.retrieve(0)))._tag, "InvalidInput")
      assert.strictEqual(fake.requests.length, 4)
    }))

  it.effect("retrieveMany and delete send chunks of 10,000", () =>
    Effect.gen(function*() {
      const fake = fakeCdf((seen) =>
        seen.path === "/functions/schedules/byids"
          ? {
            status: 200,
            body: {
              items: itemsOf(seen).map((item) =>
                schedule(typeof item === "object" && item !== null && "id" in item ? Number(item.id) : 0)
              )
            }
          }
          : seen.path === "/functions/schedules/delete"
          ? { status: 200, body: {} }
          : undefined
      )
      const schedules = yield* Effect.provide(Schedules, fake.layer)
      const ids = Array.from({ length: 25_000 }, (_, i) => i + 1)
      const found = yield* schedules.retrieveMany(ids, { ignoreUnknownIds: true })
      assert.strictEqual(found.length, 25_000)
      assert.strictEqual(found[24_999].id, 25_000)
      yield* schedules.delete([...ids.slice(0, 10_001), 1])
      // Chunks run concurrently: compare them by their first id, not by arrival.
      const chunks = fake.requests.map((r) =>
        [r.path, (itemsOf(r)[0] as { id: number }).id, itemsOf(r).length] as const
      )
        .sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1])
      assert.deepStrictEqual(chunks, [
        ["/functions/schedules/byids", 1, 10_000],
        ["/functions/schedules/byids", 10_001, 10_000],
        ["/functions/schedules/byids", 20_001, 5_000],
        ["/functions/schedules/delete", 1, 10_000],
        ["/functions/schedules/delete", 10_001, 1]
      ])
      for (const seen of fake.requests.slice(0, 3)) {
        assert.strictEqual((seen.json as { ignoreUnknownIds: boolean }).ignoreUnknownIds, true)
      }
      assert.isTrue(
        fake.requests.slice(3).some((r) => JSON.stringify(r.json) === JSON.stringify({ items: [{ id: 10_001 }] }))
      )
      yield* schedules.retrieveMany([7])
      assert.deepStrictEqual(fake.requests[5].json, { items: [{ id: 7 }], ignoreUnknownIds: false })
      yield* schedules.delete([])
      assert.strictEqual(fake.requests.length, 6)
    }))

  it.effect("inputData is the schedule's data, or None when it has none", () =>
    Effect.gen(function*() {
      const fake = fakeCdf((seen) =>
        seen.path === "/functions/schedules/5/input_data"
          ? { status: 200, body: { id: 5, data: { full: true, n: 3 } } }
          : seen.path === "/functions/schedules/6/input_data"
          ? { status: 200, body: { id: 6 } }
          : undefined
      )
      const schedules = yield* Effect.provide(Schedules, fake.layer)
      assert.deepStrictEqual(yield* schedules.inputData(5), Option.some({ full: true, n: 3 }))
      assert.isTrue(Option.isNone(yield* schedules.inputData(6)))
      assert.deepStrictEqual(fake.requests.map((r) => [r.method, r.path]), [
        ["GET", "/functions/schedules/5/input_data"],
        ["GET", "/functions/schedules/6/input_data"]
      ])
    }))
})
