/**
 * Pacing to the running-call limits, under the TestClock: a fan-out never has more calls running than
 * the limits, every call completes, and a 429 on `POST .../call` (which started nothing) is waited out
 * and sent again with a fresh nonce.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Schedule } from "effect"
import * as Calls from "../src/Calls.js"
import * as CogniteFunctions from "../src/CogniteFunctions.js"
import { Slots } from "../src/internal/pacing.js"
import { callBody, drive, type Reply, scripted, type Seen } from "./support/scripted.js"

const steady = Schedule.spaced("500 millis")

/**
 * A server whose calls each run `runMillis` (by the TestClock), that answers 429 above `limit` running
 * calls per function, and records the most calls it saw running at once.
 */
const limitedServer = (limit: number, runMillis: number) => {
  let next = 100
  const endsAt = new Map<number, { readonly fn: number; readonly end: number }>()
  const stats = { peak: 0, refused: 0, created: 0 }
  const running = (fn: number, now: number) => [...endsAt.values()].filter((c) => c.fn === fn && c.end > now).length
  const route = (seen: Seen): Reply | undefined => {
    const post = /^\/functions\/(\d+)\/call$/.exec(seen.path)
    if (post !== null) {
      const fn = Number(post[1])
      if (running(fn, seen.at) >= limit) {
        stats.refused++
        return { status: 429, body: { error: { code: 429, message: "too many running calls" } } }
      }
      const id = next++
      endsAt.set(id, { fn, end: seen.at + runMillis })
      stats.created++
      stats.peak = Math.max(stats.peak, running(fn, seen.at))
      return { status: 201, body: { ...callBody(id, "Running", { startTime: seen.at }), functionId: fn } }
    }
    const poll = /^\/functions\/(\d+)\/calls\/(\d+)$/.exec(seen.path)
    if (poll !== null) {
      const call = endsAt.get(Number(poll[2]))
      const done = call !== undefined && call.end <= seen.at
      return {
        status: 200,
        body: { ...callBody(Number(poll[2]), done ? "Completed" : "Running"), functionId: Number(poll[1]) }
      }
    }
    if (/\/response$/.test(seen.path)) return { status: 200, body: { response: { ok: true } } }
    return undefined
  }
  return { route, stats }
}

/** `n` concurrent calls, call `i` to function `fn(i)`: the ids of the calls. */
const fanOut = <R>(
  calls: Effect.Effect<Calls.Calls.Service, never, R>,
  n: number,
  fn: (i: number) => number = () => 7
) =>
  Effect.flatMap(calls, (service) =>
    Effect.forEach(
      Array.from({ length: n }, (_, i) => i),
      (i) => Effect.map(service.call(fn(i), { i }, { schedule: steady }), (done) => done.call.id),
      { concurrency: "unbounded" }
    ))

describe("pacing", () => {
  it.effect("slots go first come, first served; an interrupted waiter leaves the line and no slot is lost", () =>
    Effect.gen(function*() {
      const slots = new Slots(1)
      const order: Array<string> = []
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(
        slots.withSlot(Effect.zipRight(Deferred.await(gate), Effect.sync(() => order.push("a"))))
      )
      yield* Effect.yieldNow()
      const waiter = (name: string) => Effect.fork(slots.withSlot(Effect.sync(() => order.push(name))))
      const b = yield* waiter("b")
      const c = yield* waiter("c")
      const d = yield* waiter("d")
      yield* Effect.yieldNow()
      expect(slots.waiting).toBe(3)
      yield* Fiber.interrupt(c)
      expect(slots.waiting).toBe(2)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      yield* Fiber.join(b)
      yield* Fiber.join(d)
      expect(order).toEqual(["a", "b", "d"])
      expect(slots.available).toBe(1)
      expect(slots.waiting).toBe(0)
    }))

  it.scoped("30 concurrent calls against a limit of 4 per function: never more than 4 running, all 30 complete, no 429", () =>
    Effect.gen(function*() {
      const server = limitedServer(4, 2_000)
      const fake = yield* scripted(server.route)
      const ids = yield* drive(
        fanOut(Calls.makeWith({ maxRunningCallsPerFunction: 4, overcommit: 1 }), 30)
      ).pipe(Effect.provide(fake.context))
      expect(new Set(ids).size).toBe(30)
      expect(server.stats.peak).toBeLessThanOrEqual(4)
      expect(server.stats.refused).toBe(0)
      expect(server.stats.created).toBe(30)
    }))

  it.scoped("overcommit sends a few more than the limit: the extra ones are refused with 429 and waited out", () =>
    Effect.gen(function*() {
      const server = limitedServer(4, 2_000)
      const fake = yield* scripted(server.route)
      const ids = yield* drive(
        fanOut(Calls.makeWith({ maxRunningCallsPerFunction: 4, overcommit: 1.5 }), 30)
      ).pipe(Effect.provide(fake.context))
      expect(new Set(ids).size).toBe(30)
      expect(server.stats.created).toBe(30)
      expect(server.stats.peak).toBeLessThanOrEqual(4)
      expect(server.stats.refused).toBeGreaterThan(0)
    }))

  it.scoped("CogniteFunctions' pacing option sets the limits its calls pace to", () =>
    Effect.gen(function*() {
      const server = limitedServer(3, 2_000)
      const fake = yield* scripted(server.route)
      const ids = yield* drive(fanOut(Calls.Calls, 12)).pipe(
        Effect.provide(CogniteFunctions.layerServices({}, { maxRunningCallsPerFunction: 3, overcommit: 1 })),
        Effect.provide(fake.context)
      )
      expect(new Set(ids).size).toBe(12)
      expect(server.stats.peak).toBeLessThanOrEqual(3)
      // with the default 100 per function every call above 3 would be refused first
      expect(server.stats.refused).toBe(0)
    }))

  it.scoped("a call holding a slot others wait for polls at least every 500 ms; the last one backs off", () =>
    Effect.gen(function*() {
      const server = limitedServer(1, 10_000)
      const fake = yield* scripted(server.route)
      yield* drive(
        Effect.flatMap(
          Calls.makeWith({ maxRunningCallsPerFunction: 1, overcommit: 1 }),
          (calls) => Effect.forEach([0, 1], (i) => calls.call(7, { i }), { concurrency: "unbounded" })
        )
      ).pipe(Effect.provide(fake.context))
      const gaps = (path: string) => {
        const at = fake.to(path).map((r) => r.at)
        return at.slice(1).map((t, i) => t - at[i])
      }
      // the first call runs while the second waits: no gap above 500 ms once its backoff reaches it
      expect(Math.max(...gaps("/functions/7/calls/100"))).toBeLessThanOrEqual(500)
      // the second runs alone: the default backoff grows past 500 ms
      expect(Math.max(...gaps("/functions/7/calls/101"))).toBeGreaterThan(1_000)
      expect(server.stats.created).toBe(2)
    }))

  it.scoped("the project limit holds across functions", () =>
    Effect.gen(function*() {
      const server = limitedServer(100, 1_000)
      let peakProject = 0
      let running = 0
      const fake = yield* scripted((seen) => {
        const reply = server.route(seen)
        if (reply !== undefined && "status" in reply && reply.status === 201) {
          peakProject = Math.max(peakProject, ++running)
        }
        if (reply !== undefined && "body" in reply && JSON.stringify(reply.body).includes("Completed")) {
          running--
        }
        return reply
      })
      const ids = yield* drive(
        fanOut(Calls.makeWith({ maxRunningCallsPerProject: 5, overcommit: 1 }), 20, (i) => 7 + (i % 4))
      ).pipe(Effect.provide(fake.context))
      expect(new Set(ids).size).toBe(20)
      expect(peakProject).toBeLessThanOrEqual(5)
    }))

  it.scoped("slots taken by another client: 429s are waited out and re-sent with a fresh nonce, none lost", () =>
    Effect.gen(function*() {
      // the server allows 2, another client holds 1 the whole time: this client's default gate lets 100 through
      const server = limitedServer(1, 1_500)
      const fake = yield* scripted(server.route)
      const ids = yield* drive(fanOut(Calls.Calls, 6)).pipe(Effect.provide(fake.context))
      expect(new Set(ids).size).toBe(6)
      expect(server.stats.refused).toBeGreaterThan(0)
      expect(server.stats.peak).toBe(1)
      // a send after a refusal waited out here carries a nonce from a new session (the transport's own
      // quick retries of a 429 re-send the same body)
      expect(fake.to("/sessions").length).toBeGreaterThan(6)
    }))

  it.scoped("a 429 that never ends gives up with RateLimited after throttleTimeout", () =>
    Effect.gen(function*() {
      const fake = yield* scripted((seen) =>
        seen.path === "/functions/7/call"
          ? { status: 429, body: { error: { code: 429, message: "busy" } }, headers: { "retry-after": "2" } }
          : undefined
      )
      const error = yield* drive(
        Effect.flatMap(Calls.makeWith({ throttleTimeout: "1 minute" }), (calls) => calls.call(7))
      ).pipe(Effect.provide(fake.context), Effect.flip)
      expect(error._tag).toBe("RateLimited")
      const posts = fake.to("/functions/7/call")
      // the last send starts within the timeout; the transport's own retries of it may add a few hints' worth
      expect(posts[posts.length - 1].at).toBeLessThanOrEqual(60_000 + 5 * 2_000)
      expect(posts[posts.length - 1].at).toBeGreaterThan(50_000)
      // the server's hint is honoured: no two sends closer than 2 s once this client waits on its own
      const gaps = posts.slice(1).map((p, i) => p.at - posts[i].at)
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_000)
    }))
})
