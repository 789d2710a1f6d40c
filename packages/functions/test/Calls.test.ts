import { FunctionCall } from "@effect-cdf/core"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Effect, Exit, Fiber, Logger, Schedule, Schema, Stream, TestClock } from "effect"
import * as Calls from "../src/Calls.js"
import * as FunctionDef from "../src/FunctionDef.js"
import { advance, callBody, drive, NONCE, type Reply, scripted, type Seen } from "./support/scripted.js"

/** The default schedule without jitter, so poll times can be asserted exactly. */
const steady = Schedule.exponential("250 millis", 1.5).pipe(Schedule.union(Schedule.spaced("5 seconds")))

/** A function 7 whose call 100 reports `statuses` one poll after another, then stays on the last. */
const callScript = (statuses: ReadonlyArray<string>, extra: Record<string, unknown> = {}) => {
  let polls = 0
  return (seen: Seen): Reply | undefined => {
    if (seen.method === "POST" && seen.path === "/functions/7/call") {
      return { status: 201, body: callBody(100, "Running") }
    }
    if (seen.method === "GET" && seen.path === "/functions/7/calls/100") {
      const status = statuses[Math.min(polls++, statuses.length - 1)]
      return { status: 200, body: callBody(100, status, status === "Running" ? {} : { endTime: 5_000, ...extra }) }
    }
    if (seen.path === "/functions/7/calls/100/response") {
      return { status: 200, body: { callId: 100, functionId: 7, response: { y: 42 } } }
    }
    return undefined
  }
}

/** `script`, but its call's polls are answered with the error `status` (the first `times` of them, or all). */
const pollsAnswer = (script: (seen: Seen) => Reply | undefined, status: number, message: string, times = Infinity) => {
  let polls = 0
  return (seen: Seen): Reply | undefined =>
    seen.path === "/functions/7/calls/100" && polls++ < times
      ? { status, body: { error: { code: status, message } } }
      : script(seen)
}

const runCalls = <A, E>(f: (calls: Calls.Calls.Service) => Effect.Effect<A, E>) => Effect.flatMap(Calls.Calls, f)

describe("Calls.call", () => {
  it.scoped("sends one call with a fresh nonce, polls until Completed and decodes the response", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(callScript(["Running", "Running", "Completed"]))
      const result = yield* drive(
        runCalls((calls) => calls.call(7, { x: 1 }, { schema: Schema.Struct({ y: Schema.Number }), schedule: steady }))
      ).pipe(Effect.provide(fake.context))

      expect(result.response).toEqual({ y: 42 })
      expect(result.call.status).toBe("Completed")
      expect(result.report).toMatchObject({
        attempts: 1,
        polls: 3,
        statuses: ["Running", "Completed"],
        reconciled: false
      })
      // a token-exchange session (no client credentials configured), then the call with its nonce
      expect(fake.to("/sessions")[0].body).toEqual({ items: [{ tokenExchange: true }] })
      const posts = fake.to("/functions/7/call")
      expect(posts.length).toBe(1)
      expect(posts[0].body).toEqual({ data: { x: 1 }, nonce: NONCE })
      // polls at 250 ms, then x1.5 (in whole milliseconds): 625 ms, 1188 ms
      expect(fake.to("/functions/7/calls/100").map((r) => r.at)).toEqual([250, 625, 1188])
      expect(fake.to("/functions/7/calls/100/response").length).toBe(1)
    }))

  it.scoped("caps the poll interval at 5 s and reads the limits once for many calls", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(callScript([...Array(12).fill("Running"), "Completed"]))
      yield* drive(runCalls((calls) => calls.call(7, {}, { schedule: steady }))).pipe(Effect.provide(fake.context))
      yield* drive(runCalls((calls) => calls.call(7))).pipe(Effect.provide(fake.context))
      const times = fake.to("/functions/7/calls/100").slice(0, 13).map((r) => r.at)
      const gaps = times.slice(1).map((t, i) => t - times[i])
      expect(Math.max(...gaps)).toBe(5_000)
      expect(gaps.slice(0, 5)).toEqual([375, 563, 844, 1266, 1899])
      expect(fake.to("/functions/limits").length).toBe(1)
    }))

  it.scoped("a Failed call fails with CallFailed carrying the message and trace", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(
        callScript(["Running", "Failed"], { error: { message: "ZeroDivisionError: division by zero", trace: "tb" } })
      )
      const error = yield* drive(runCalls((calls) => calls.call(7))).pipe(Effect.provide(fake.context), Effect.flip)
      expect(error).toMatchObject({
        _tag: "CallFailed",
        functionId: 7,
        callId: 100,
        reason: "ZeroDivisionError: division by zero",
        trace: "tb"
      })
      expect(fake.to("/functions/7/calls/100/response").length).toBe(0)
    }))

  it.scoped("the string form of a call's error becomes the same CallFailed", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(callScript(["Failed"], { error: "ValueError: bad" }))
      const error = yield* drive(runCalls((calls) => calls.call(7))).pipe(Effect.provide(fake.context), Effect.flip)
      expect(error).toMatchObject({ _tag: "CallFailed", reason: "ValueError: bad" })
    }))

  it.scoped("a Timeout call fails with CallTimedOut", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(callScript(["Running", "Timeout"], { error: { message: "Function timed out" } }))
      const error = yield* drive(runCalls((calls) => calls.call(7))).pipe(Effect.provide(fake.context), Effect.flip)
      expect(error).toMatchObject({ _tag: "CallTimedOut", callId: 100, reason: "Function timed out" })
    }))

  it.scoped("stops at the deadline with a handle that resumes waiting", () =>
    Effect.gen(function*() {
      let done = false
      const script = callScript(["Running"])
      const fake = yield* scripted((seen) =>
        done && seen.path === "/functions/7/calls/100"
          ? { status: 200, body: callBody(100, "Completed", { endTime: 1 }) }
          : script(seen)
      )
      const error = yield* drive(runCalls((calls) => calls.call(7, {}, { deadline: "20 seconds", schedule: steady })))
        .pipe(Effect.provide(fake.context), Effect.flip)
      if (error._tag !== "PollDeadlineExceeded") throw new Error(`expected PollDeadlineExceeded, got ${error._tag}`)
      expect(error.handle).toMatchObject({ functionId: 7, callId: 100, startedAt: 0 })
      expect(error.waitedMillis).toBe(20_000)
      expect(error.lastStatus).toBe("Running")
      // the last poll is made at the deadline itself
      const polls = fake.to("/functions/7/calls/100")
      expect(polls[polls.length - 1].at).toBe(20_000)

      // the handle survives JSON and resumes waiting: an immediate poll, then the response
      const stored = JSON.stringify(Schema.encodeSync(FunctionCall.CallHandle)(error.handle))
      const handle = Schema.decodeUnknownSync(FunctionCall.CallHandle)(JSON.parse(stored))
      done = true
      const before = fake.requests.length
      const resumed = yield* drive(runCalls((calls) => calls.await(handle))).pipe(Effect.provide(fake.context))
      expect(resumed.response).toEqual({ y: 42 })
      expect(fake.requests.slice(before).map((r) => r.path)).toEqual([
        "/functions/limits",
        "/functions/7/calls/100",
        "/functions/7/calls/100/response"
      ])
      expect(fake.requests[before].at).toBe(20_000)
    }))

  it.scoped("the default deadline is the project's timeout plus a minute", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(callScript(["Running"]))
      const error = yield* drive(runCalls((calls) => calls.call(7))).pipe(Effect.provide(fake.context), Effect.flip)
      expect(error).toMatchObject({ _tag: "PollDeadlineExceeded", waitedMillis: 10 * 60_000 })
    }))

  it.scoped("an unknown status is polled on, logged once, and never taken for an end", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message))))
      const fake = yield* scripted(callScript(["Queued", "Queued", "Queued", "Running", "Completed"]))
      const result = yield* drive(runCalls((calls) => calls.call(7))).pipe(
        Effect.provide(fake.context),
        Effect.provide(logger)
      )
      expect(result.report.statuses).toEqual(["Running", "Queued", "Running", "Completed"])
      expect(logs.filter((l) => l.includes("\"Queued\" is unknown")).length).toBe(1)
    }))

  it.scoped("transient failures while polling do not end the wait", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(pollsAnswer(callScript(["Completed"]), 503, "busy", 8))
      const result = yield* drive(runCalls((calls) => calls.call(7))).pipe(Effect.provide(fake.context))
      expect(result.call.status).toBe("Completed")
      expect(fake.to("/functions/7/calls/100").length).toBe(9)
    }))

  it.scoped("a 403 while polling fails at once", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(pollsAnswer(callScript(["Running"]), 403, "no access"))
      const error = yield* drive(runCalls((calls) => calls.call(7))).pipe(Effect.provide(fake.context), Effect.flip)
      expect(error._tag).toBe("Forbidden")
      expect(fake.to("/functions/7/calls/100").length).toBe(1)
    }))

  it.scoped("resolves an external id and uses an explicit nonce without creating a session", () =>
    Effect.gen(function*() {
      const script = callScript(["Completed"])
      const fake = yield* scripted((seen) =>
        seen.path === "/functions/byids"
          ? {
            status: 200,
            body: { items: [{ id: 7, name: "f", externalId: "my-fn", status: "Ready", fileId: 1, createdTime: 0 }] }
          }
          : script(seen)
      )
      yield* drive(runCalls((calls) => calls.call("my-fn", undefined, { nonce: "explicit-nonce" }))).pipe(
        Effect.provide(fake.context)
      )
      expect(fake.to("/functions/byids")[0].body).toEqual({ items: [{ externalId: "my-fn" }], ignoreUnknownIds: true })
      expect(fake.to("/sessions").length).toBe(0)
      expect(fake.to("/functions/7/call")[0].body).toEqual({ data: {}, nonce: "explicit-nonce" })
    }))

  it.scoped("bad input fails before anything is sent", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(() => undefined)
      const errors = yield* Effect.all([
        Effect.flip(runCalls((calls) => calls.call(0))),
        Effect.flip(runCalls((calls) => calls.call(2 ** 53))),
        Effect.flip(runCalls((calls) => calls.call(""))),
        Effect.flip(runCalls((calls) => calls.call(7, [1, 2] as unknown as Record<string, unknown>))),
        Effect.flip(runCalls((calls) => calls.retrieve(7, -1)))
      ]).pipe(Effect.provide(fake.context))
      expect(errors.map((e) => e._tag)).toEqual(Array(5).fill("InvalidInput"))
      expect(fake.requests.length).toBe(0)
    }))
})

describe("interruption", () => {
  it.scoped("stops polling: no request is sent after the interrupt", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(callScript(["Running"]))
      const fiber = yield* Effect.fork(
        runCalls((calls) => calls.call(7, {}, { schedule: steady })).pipe(Effect.provide(fake.context))
      )
      yield* advance(3_000)
      const sent = fake.requests.length
      expect(fake.to("/functions/7/calls/100").length).toBeGreaterThan(2)
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      yield* advance(600_000)
      expect(fake.requests.length).toBe(sent)
    }))

  it.scoped("aborts a request in flight", () =>
    Effect.gen(function*() {
      let hung = 0
      const fake = yield* scripted((seen) => {
        if (seen.path === "/functions/7/call") return { status: 201, body: callBody(100, "Running") }
        if (seen.path === "/functions/7/calls/100") {
          hung++
          return { hang: true }
        }
        return undefined
      })
      const fiber = yield* Effect.fork(
        runCalls((calls) => calls.call(7, {}, { schedule: steady })).pipe(Effect.provide(fake.context))
      )
      yield* advance(1_000)
      expect(hung).toBe(1)
      const exit = yield* Fiber.interrupt(fiber)
      expect(Cause.isInterruptedOnly(Exit.isFailure(exit) ? exit.cause : Cause.empty)).toBe(true)
      yield* advance(600_000)
      expect(hung).toBe(1)
    }))
})

describe("typed definitions", () => {
  it.scoped("encode the input and decode the output", () =>
    Effect.gen(function*() {
      const Double = FunctionDef.make({
        externalId: "double",
        input: Schema.Struct({ n: Schema.NumberFromString }),
        output: Schema.Struct({ y: Schema.Number })
      })
      const script = callScript(["Completed"])
      const fake = yield* scripted((seen) =>
        seen.path === "/functions/byids"
          ? { status: 200, body: { items: [{ id: 7, name: "double", status: "Ready", fileId: 1, createdTime: 0 }] } }
          : script(seen)
      )
      const result = yield* drive(runCalls((calls) => calls.call(Double, { n: 21 }))).pipe(Effect.provide(fake.context))
      const y: number = result.response.y
      expect(y).toBe(42)
      expect(fake.to("/functions/7/call")[0].body).toMatchObject({ data: { n: "21" } })
    }))

  it.scoped("a response that does not match the output schema is a DecodeError", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(callScript(["Completed"]))
      const error = yield* drive(
        runCalls((calls) => calls.call(7, {}, { schema: Schema.Struct({ y: Schema.String }) }))
      ).pipe(Effect.provide(fake.context), Effect.flip)
      expect(error).toMatchObject({ _tag: "DecodeError", subject: "response of call 100" })
    }))
})

describe("reading calls", () => {
  it.scoped("retrieveMany sends chunks of 10,000 ids", () =>
    Effect.gen(function*() {
      const fake = yield* scripted((seen) =>
        seen.path === "/functions/7/calls/byids"
          ? {
            status: 200,
            body: {
              items: (seen.body as { items: Array<{ id: number }> }).items.slice(0, 1).map((i) =>
                callBody(i.id, "Completed")
              )
            }
          }
          : undefined
      )
      const ids = Array.from({ length: 25_000 }, (_, i) => i + 1)
      const calls = yield* runCalls((c) => c.retrieveMany(7, ids, { ignoreUnknownIds: true })).pipe(
        Effect.provide(fake.context)
      )
      const bodies = fake.to("/functions/7/calls/byids").map((r) =>
        r.body as { items: Array<unknown>; ignoreUnknownIds: boolean }
      )
      expect(bodies.map((b) => b.items.length).sort()).toEqual([10_000, 10_000, 5_000])
      expect(bodies.every((b) => b.ignoreUnknownIds)).toBe(true)
      expect(calls.length).toBe(3)
    }))

  it.scoped("list follows nextCursor with every other parameter unchanged", () =>
    Effect.gen(function*() {
      const fake = yield* scripted((seen) => {
        if (seen.path !== "/functions/7/calls/list") return undefined
        const cursor = (seen.body as { cursor?: string }).cursor
        const page = cursor === undefined ? 0 : Number(cursor)
        return {
          status: 200,
          body: {
            items: [callBody(page + 1, "Completed"), callBody(page + 100, "Failed")],
            ...(page < 2 ? { nextCursor: String(page + 1) } : {})
          }
        }
      })
      const calls = yield* Stream.runCollect(
        Stream.unwrap(Effect.map(Calls.Calls, (c) => c.list(7, { filter: { status: "Completed" }, pageSize: 2 })))
      ).pipe(Effect.provide(fake.context))
      expect(Chunk.size(calls)).toBe(6)
      expect(fake.to("/functions/7/calls/list").map((r) => r.body)).toEqual([
        { filter: { status: "Completed" }, limit: 2 },
        { filter: { status: "Completed" }, limit: 2, cursor: "1" },
        { filter: { status: "Completed" }, limit: 2, cursor: "2" }
      ])
    }))

  it.scoped("response and logs", () =>
    Effect.gen(function*() {
      const fake = yield* scripted((seen) =>
        seen.path === "/functions/7/calls/5/response"
          ? { status: 200, body: { callId: 5, functionId: 7 } }
          : seen.path === "/functions/7/calls/5/logs"
          ? { status: 200, body: { items: [{ timestamp: 1, message: "hello" }] } }
          : undefined
      )
      const [response, logs] = yield* Effect.all([
        runCalls((c) => c.response(7, 5)),
        runCalls((c) => c.logs(7, 5))
      ]).pipe(Effect.provide(fake.context))
      expect(response._tag).toBe("None")
      expect(logs.map((l) => l.message)).toEqual(["hello"])
    }))

  it.scoped("followLogs emits each new line once while the call runs and ends when it ends", () =>
    Effect.gen(function*() {
      let round = 0
      const fake = yield* scripted((seen) => {
        if (seen.path === "/functions/7/calls/100") {
          round++
          return { status: 200, body: callBody(100, round >= 4 ? "Completed" : "Running") }
        }
        if (seen.path === "/functions/7/calls/100/logs") {
          const lines = ["a", "b", "c", "d", "e"].slice(0, Math.min(5, round + (round >= 4 ? 2 : 0)))
          return { status: 200, body: { items: lines.map((message, i) => ({ timestamp: i, message })) } }
        }
        return undefined
      })
      const lines = yield* drive(
        Stream.runCollect(Stream.unwrap(Effect.map(Calls.Calls, (c) => c.followLogs({ functionId: 7, callId: 100 }))))
      ).pipe(Effect.provide(fake.context))
      expect(Chunk.toReadonlyArray(lines).map((l) => l.message)).toEqual(["a", "b", "c", "d", "e"])
      expect(fake.to("/functions/7/calls/100").length).toBe(4)
    }))
})

describe("secrets", () => {
  it.scoped("the nonce goes to the call body and nowhere else: not in the report, logs or errors", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.replace(Logger.defaultLogger, Logger.make((entry) => logs.push(JSON.stringify(entry))))
      const fake = yield* scripted(callScript(["Failed"], { error: { message: "boom" } }))
      const error = yield* drive(runCalls((calls) => calls.call(7))).pipe(
        Effect.provide(fake.context),
        Effect.provide(logger),
        Effect.flip
      )
      for (const text of [...logs, String(error), JSON.stringify(error), Cause.pretty(Cause.fail(error))]) {
        expect(text).not.toContain(NONCE)
      }
      expect(JSON.stringify(fake.to("/functions/7/call")[0].body)).toContain(NONCE)
      yield* TestClock.adjust(0)
    }))
})
