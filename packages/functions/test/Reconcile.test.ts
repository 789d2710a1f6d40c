/**
 * Reconciling a call whose `POST .../call` answer was lost: a call is adopted only on positive evidence
 * that it is ours (the session made for it alone was used), never because it is the only call in the
 * window. Foreign calls inside and outside the window, with our call created and not created.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import * as Calls from "../src/Calls.js"
import { callBody, drive, NONCE, type Reply, scripted, type Seen } from "./support/scripted.js"

const SENT_AT = 100_000
const OURS = 100
const FOREIGN = 200

/**
 * Function 7, whose POST answer is lost (`ECONNRESET` after sending); the list shows `listed`, and our
 * session 99 has `status` (`READY` until revoked).
 */
const lost = (listed: ReadonlyArray<ReturnType<typeof callBody>>, status: "READY" | "ACTIVE") => {
  let session: string = status
  return (seen: Seen): Reply | undefined => {
    if (seen.path === "/functions/7/call") return { transport: "ECONNRESET" }
    if (seen.path === "/functions/7/calls/list") return { status: 200, body: { items: listed } }
    if (seen.path === "/sessions/byids") return { status: 200, body: { items: [{ id: 99, status: session }] } }
    if (seen.path === "/sessions/revoke") {
      session = "REVOKED"
      return { status: 200, body: { items: [{ id: 99, status: session }] } }
    }
    if (seen.path === `/functions/7/calls/${OURS}`) return { status: 200, body: callBody(OURS, "Completed") }
    if (seen.path === `/functions/7/calls/${OURS}/response`) return { status: 200, body: { response: { mine: true } } }
    return undefined
  }
}

const run = <A, E>(f: (calls: Calls.Calls.Service) => Effect.Effect<A, E>) => Effect.flatMap(Calls.Calls, f)
const inWindow = (id: number) => callBody(id, "Running", { startTime: SENT_AT + 5 })
const beforeWindow = (id: number) => callBody(id, "Running", { startTime: SENT_AT - 60_000 })

describe("reconciling a call whose answer was lost", () => {
  it.scoped("our call not created, a foreign call in the window: not adopted, the session is revoked", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(SENT_AT)
      const fake = yield* scripted(lost([inWindow(FOREIGN)], "READY"))
      const error = yield* drive(run((calls) => calls.call(7))).pipe(Effect.provide(fake.context), Effect.flip)
      expect(error).toMatchObject({ _tag: "CallOutcomeUnknown", evidence: "NotCreated", sessionId: 99 })
      expect(error.message).toContain("calling again is safe")
      expect(fake.to("/sessions/revoke")[0].body).toEqual({ items: [{ id: 99 }] })
      expect(fake.to(`/functions/7/calls/${FOREIGN}`).length).toBe(0)
      expect(fake.to("/functions/7/call").length).toBe(1)
    }))

  it.scoped("our call created, a foreign call in the window too: two candidates, not adopted", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(SENT_AT)
      const fake = yield* scripted(lost([inWindow(FOREIGN), inWindow(OURS)], "ACTIVE"))
      const error = yield* drive(run((calls) => calls.call(7))).pipe(Effect.provide(fake.context), Effect.flip)
      expect(error).toMatchObject({ _tag: "CallOutcomeUnknown", evidence: "Created", candidates: [FOREIGN, OURS] })
      expect(fake.to("/sessions/revoke").length).toBe(0)
      expect(fake.to("/functions/7/call").length).toBe(1)
    }))

  it.scoped("our call created, a foreign call before the window: ours is adopted", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(SENT_AT)
      const fake = yield* scripted(lost([beforeWindow(FOREIGN), inWindow(OURS)], "ACTIVE"))
      const result = yield* drive(run((calls) => calls.call(7))).pipe(Effect.provide(fake.context))
      expect(result.call.id).toBe(OURS)
      expect(result.response).toEqual({ mine: true })
      expect(result.report.reconciled).toBe(true)
      expect(fake.to("/functions/7/calls/list")[0].body).toEqual({
        filter: { startTime: { min: SENT_AT - 30_000, max: SENT_AT + 30_000 } },
        limit: 100
      })
    }))

  it.scoped("a call known to be another workflow's is never adopted", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(SENT_AT)
      const fake = yield* scripted(lost([inWindow(FOREIGN), inWindow(OURS)], "ACTIVE"))
      const result = yield* drive(run((calls) => calls.call(7, {}, { excludeCallIds: new Set([FOREIGN]) }))).pipe(
        Effect.provide(fake.context)
      )
      expect(result.call.id).toBe(OURS)
    }))

  it.scoped("a given nonce proves nothing: the one call in the window is not adopted", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(SENT_AT)
      const fake = yield* scripted(lost([inWindow(FOREIGN)], "ACTIVE"))
      const error = yield* drive(run((calls) => calls.call(7, {}, { nonce: NONCE }))).pipe(
        Effect.provide(fake.context),
        Effect.flip
      )
      expect(error).toMatchObject({ _tag: "CallOutcomeUnknown", evidence: "None", candidates: [FOREIGN] })
      expect(fake.to("/sessions").length).toBe(0)
      expect(fake.to("/sessions/byids").length).toBe(0)
      expect(JSON.stringify(error)).not.toContain(NONCE)
    }))

  it.scoped("session used but no call listed yet: three looks, then unknown (Created); scheduled calls never count", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(SENT_AT)
      const fake = yield* scripted(lost([callBody(OURS, "Running", { startTime: SENT_AT, scheduleId: 5 })], "ACTIVE"))
      const error = yield* drive(run((calls) => calls.call(7))).pipe(Effect.provide(fake.context), Effect.flip)
      expect(error).toMatchObject({ _tag: "CallOutcomeUnknown", evidence: "Created" })
      expect(fake.to("/functions/7/calls/list").length).toBe(3)
    }))

  it.scoped("Calls.reconcile, for a caller that recorded the send itself", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(SENT_AT + 2_000)
      const fake = yield* scripted(lost([inWindow(FOREIGN), inWindow(OURS)], "ACTIVE"))
      const found = yield* drive(
        run((calls) => calls.reconcile(7, { sentAt: SENT_AT, sessionId: 99, excludeCallIds: (id) => id === FOREIGN }))
      ).pipe(Effect.provide(fake.context))
      expect(found.id).toBe(OURS)
      const refused = yield* run((calls) => calls.reconcile(7, { sentAt: -1 })).pipe(
        Effect.provide(fake.context),
        Effect.flip
      )
      expect(refused._tag).toBe("InvalidInput")
    }))

  it.scoped("onSending hands over what Calls.reconcile needs, before the POST is sent", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(SENT_AT)
      const fake = yield* scripted(lost([inWindow(OURS)], "ACTIVE"))
      const recorded: Array<Calls.Sending> = []
      const posts = () => fake.to("/functions/7/call").length
      const postsSeen: Array<number> = []
      yield* drive(run((calls) =>
        calls.call(7, {}, {
          onSending: (sending) =>
            Effect.sync(() => {
              recorded.push(sending)
              postsSeen.push(posts())
            })
        })
      )).pipe(Effect.provide(fake.context))
      expect(recorded).toEqual([{ functionId: 7, sentAt: SENT_AT, sessionId: 99 }])
      expect(postsSeen).toEqual([0])
      // a process that died mid-send (a new service: it knows no call) finds its call from the record alone
      const found = yield* drive(Effect.flatMap(Calls.make, (fresh) => fresh.reconcile(7, recorded[0]))).pipe(
        Effect.provide(fake.context)
      )
      expect(found.id).toBe(OURS)
    }))

  it.scoped("a connection refused before sending is retried (it provably never left)", () =>
    Effect.gen(function*() {
      let attempts = 0
      const fake = yield* scripted((seen) =>
        seen.path === "/functions/7/call" && attempts++ === 0
          ? { transport: "ECONNREFUSED" }
          : seen.path === "/functions/7/call"
          ? { status: 201, body: callBody(OURS, "Completed") }
          : lost([], "ACTIVE")(seen)
      )
      const result = yield* drive(run((calls) => calls.call(7))).pipe(Effect.provide(fake.context))
      expect(result.report.attempts).toBe(2)
      expect(fake.to("/functions/7/calls/list").length).toBe(0)
    }))
})
