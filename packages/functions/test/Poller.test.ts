/**
 * The shared poller under the TestClock and a scripted transport: calls of one function that wait at the same
 * time share one `POST .../calls/byids` per tick, a call seen ended wakes only its own waiter, an interrupted
 * waiter leaves the others polling, and a failed tick is either polled again (transient) or fails the
 * waiters it asked for (with the error a `GET` poll would have given).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Schedule } from "effect"
import * as Calls from "../src/Calls.js"
import * as Polling from "../src/Polling.js"
import { advance, callBody, drive, type Reply, scripted, type Seen } from "./support/scripted.js"

/** The default schedule without jitter, so tick times can be asserted exactly. */
const steady = Schedule.exponential("250 millis", 1.5).pipe(Schedule.union(Schedule.spaced("5 seconds")))

/**
 * A function 7 whose call with data `{ i }` gets id `100 + i` and ends `Completed` at `endsAt[i]`; `byIds`
 * may answer a `POST .../byids` instead (a failure, or `undefined` to answer it from the calls).
 */
const server = (endsAt: ReadonlyArray<number>, byIds: (seen: Seen) => Reply | undefined = () => undefined) => {
  const created = new Set<number>()
  const status = (id: number, at: number) => (at >= endsAt[id - 100] ? "Completed" : "Running")
  return (seen: Seen): Reply | undefined => {
    if (seen.method === "POST" && seen.path === "/functions/7/call") {
      const id = 100 + indexOf(seen)
      created.add(id)
      return { status: 201, body: callBody(id, "Running") }
    }
    if (seen.path === "/functions/7/calls/byids") {
      const failed = byIds(seen)
      if (failed !== undefined) return failed
      const items = idsOf(seen).filter((id) => created.has(id))
      return { status: 200, body: { items: items.map((id) => callBody(id, status(id, seen.at))) } }
    }
    const get = /^\/functions\/7\/calls\/(\d+)$/.exec(seen.path)
    if (get !== null) return { status: 200, body: callBody(Number(get[1]), status(Number(get[1]), seen.at)) }
    const response = /^\/functions\/7\/calls\/(\d+)\/response$/.exec(seen.path)
    if (response !== null) return { status: 200, body: { callId: Number(response[1]), functionId: 7, response: 1 } }
    return undefined
  }
}

const idsOf = (seen: Seen): ReadonlyArray<number> => {
  const body = seen.body
  if (typeof body !== "object" || body === null || !("items" in body) || !Array.isArray(body.items)) return []
  return body.items.flatMap((item: unknown) =>
    typeof item === "object" && item !== null && "id" in item && typeof item.id === "number" ? [item.id] : []
  )
}

const indexOf = (seen: Seen): number => {
  const body = seen.body
  if (typeof body !== "object" || body === null || !("data" in body)) return 0
  const data = body.data
  return typeof data === "object" && data !== null && "i" in data && typeof data.i === "number" ? data.i : 0
}

const polls = (requests: ReadonlyArray<Seen>) =>
  requests.filter((r) => r.path === "/functions/7/calls/byids" || /^\/functions\/7\/calls\/\d+$/.test(r.path))

/** `n` calls of function 7 on the default (here steady) schedule, forked: their fibers. */
const forkCallsOf = <R>(service: Effect.Effect<Calls.Calls.Service, never, R>, n: number) =>
  Effect.flatMap(
    service,
    (calls) =>
      Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) =>
        Effect.fork(calls.call(7, { i }).pipe(Effect.provideService(Polling.PollSchedule, steady))))
  )

const forkCalls = (n: number) => forkCallsOf(Calls.Calls, n)

describe("the shared poller", () => {
  it.scoped("two calls waiting at once share one byids request per tick; each wakes when its call ends", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(server([1_000, 2_000]))
      yield* Effect.gen(function*() {
        const [first, second] = yield* forkCalls(2)
        yield* advance(1_200)
        // 100 was seen Completed at the tick of 1188 ms; 101 still runs
        expect(Option.isSome(yield* Fiber.poll(first))).toBe(true)
        expect(Option.isNone(yield* Fiber.poll(second))).toBe(true)
        const done = yield* drive(Fiber.join(Fiber.zip(first, second)))
        expect(done[0].report.polls).toBe(3)
        expect(done[1].report.statuses).toEqual(["Running", "Completed"])
      }).pipe(Effect.provide(fake.context))

      const seen = polls(fake.requests)
      // ticks at 250, 625, 1188 ms ask for both calls in one request; then 101 alone polls with GET
      const shared = seen.filter((r) => r.path === "/functions/7/calls/byids")
      expect(shared.map((r) => r.at)).toEqual([250, 625, 1188])
      expect(shared.map((r) => [...idsOf(r)].sort())).toEqual([[100, 101], [100, 101], [100, 101]])
      expect(seen.filter((r) => r.path === "/functions/7/calls/100")).toEqual([])
      const alone = seen.filter((r) => r.path === "/functions/7/calls/101")
      expect(alone.length).toBeGreaterThan(0)
      expect(alone.every((r) => r.at >= 1_188 && r.method === "GET")).toBe(true)
    }))

  it.scoped("an interrupted waiter leaves; the other keeps polling and completes", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(server([60_000, 3_000]))
      const done = yield* Effect.gen(function*() {
        const [first, second] = yield* forkCalls(2)
        yield* advance(300)
        yield* Fiber.interrupt(first)
        return yield* drive(Fiber.join(second))
      }).pipe(Effect.provide(fake.context))
      expect(done.call.id).toBe(101)
      const after = polls(fake.requests).filter((r) => r.at > 300)
      expect(after.length).toBeGreaterThan(0)
      // after the interrupt nothing asks for call 100 again
      expect(after.every((r) => r.path === "/functions/7/calls/101")).toBe(true)
    }))

  it.scoped("a call missing from a byids answer (not visible yet) keeps waiting", () =>
    Effect.gen(function*() {
      let asked = 0
      const hide = (seen: Seen): Reply | undefined =>
        asked++ < 2
          ? { status: 200, body: { items: [callBody(100, seen.at >= 500 ? "Completed" : "Running")] } }
          : undefined
      const fake = yield* scripted(server([500, 2_000], hide))
      const done = yield* Effect.flatMap(forkCalls(2), (fibers) => drive(Fiber.join(Fiber.zip(fibers[0], fibers[1]))))
        .pipe(Effect.provide(fake.context))
      expect(done[1].call.status).toBe("Completed")
      // the two answers without call 101 did not observe it
      const asking101 = polls(fake.requests).filter((r) => r.path.endsWith("/101") || idsOf(r).includes(101))
      expect(done[1].report.polls).toBe(asking101.length - 2)
    }))

  it.scoped("a transient failure of a tick is polled again by the next one", () =>
    Effect.gen(function*() {
      // every attempt of the first tick (the transport's retries included) answers 503
      const fake = yield* scripted(server([1_000, 1_000], (seen) =>
        seen.at < 600 ? { status: 503, body: { error: { code: 503, message: "busy" } } } : undefined))
      const done = yield* Effect.flatMap(forkCalls(2), (fibers) =>
        drive(Fiber.join(Fiber.zip(fibers[0], fibers[1]))))
        .pipe(Effect.provide(fake.context))
      expect(done.map((d) => d.call.status)).toEqual(["Completed", "Completed"])
      const shared = fake.requests.filter((r) => r.path === "/functions/7/calls/byids")
      expect(shared.some((r) => r.at < 600)).toBe(true)
      expect(shared.some((r) => r.at >= 600)).toBe(true)
    }))

  it.scoped("a non-transient failure of a tick fails the waiters it asked for with the typed error", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(server([60_000, 60_000], () => ({
        status: 403,
        body: { error: { code: 403, message: "no functions:READ" } }
      })))
      const exits = yield* Effect.flatMap(
        forkCalls(2),
        (fibers) => drive(Effect.forEach(fibers, (fiber) => Fiber.await(fiber)))
      ).pipe(Effect.provide(fake.context))
      for (const exit of exits) {
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) expect(JSON.stringify(exit.cause)).toContain("Forbidden")
      }
      expect(fake.requests.filter((r) => r.path === "/functions/7/calls/byids").length).toBe(1)
    }))

  it.scoped("while a call waits for a slot, the shared tick comes at least every 100 ms", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(server([2_000, 2_000, 2_500]))
      yield* Effect.flatMap(
        forkCallsOf(Calls.makeWith({ maxRunningCallsPerFunction: 2 }), 3),
        (fibers) => drive(Effect.forEach(fibers, Fiber.join))
      ).pipe(Effect.provide(fake.context))
      const ticks = fake.requests.filter((r) => r.path === "/functions/7/calls/byids").map((r) => r.at)
      // the first at the schedule's 250 ms, then every 100 ms until 100 and 101 are seen ended at 2,050 ms
      expect(ticks[0]).toBe(250)
      expect(ticks[ticks.length - 1]).toBe(2_050)
      expect(ticks.slice(1).every((at, i) => at - ticks[i] === 100)).toBe(true)
      // call 102 then runs alone, polled with GET on its own schedule
      const third = fake.to("/functions/7/calls/102")
      expect(third.length).toBeGreaterThan(0)
      expect(third[0].at).toBe(2_050 + 250)
    }))
})
