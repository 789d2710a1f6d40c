/**
 * `cdf-fn calls ...`: list a function's calls, show one, its response and its logs (`--follow` to stream
 * them while it runs).
 *
 * @since 0.1.0
 */
import type * as FunctionCall from "@effect-cdf/core/FunctionCall"
import { Calls } from "@effect-cdf/functions/Calls"
import { Functions } from "@effect-cdf/functions/Functions"
import { Chunk, Effect, Option, Stream } from "effect"
import * as Common from "../Command.js"
import { Output, pretty, resumeCommand, seconds, timestamp, UsageError } from "../Output.js"
import { handler } from "../Spec.js"
import * as Tree from "../Tree.js"
import { printPairs } from "./Functions.js"

/** The id of a function named by id or external id (an external id is looked up). */
export const functionIdOf = (text: string) =>
  Effect.gen(function*() {
    const ref = Common.ref(text)
    return typeof ref === "number" ? ref : (yield* (yield* Functions).retrieve(ref)).id
  })

const duration = (call: FunctionCall.FunctionCall) =>
  call.endTime === undefined ? "" : seconds(call.endTime - call.startTime)

/** `calls list`. */
export const list = handler(Tree.callsList, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const calls = Chunk.toReadonlyArray(
        yield* Stream.runCollect((yield* Calls).list(Common.ref(args.fn), {
          filter: { status: args.status },
          limit: Math.max(1, args.limit)
        }))
      )
      yield* out.result(
        calls,
        out.table(
          ["ID", "STATUS", "STARTED", "DURATION", "SCHEDULE"],
          calls.map((call) => [
            String(call.id),
            call.status,
            timestamp(call.startTime),
            duration(call),
            call.scheduleId === undefined ? "" : String(call.scheduleId)
          ])
        )
      )
    })
  ))

/** `calls get`. */
export const get = handler(Tree.callsGet, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const callId = yield* Common.id("call id", args.callId)
      const call = yield* (yield* Calls).retrieve(Common.ref(args.fn), callId)
      yield* out.result(
        call,
        printPairs([
          ["call id", String(call.id)],
          ["function id", String(call.functionId)],
          ["status", call.status],
          ["started", timestamp(call.startTime)],
          ...(call.endTime === undefined ? [] : [["ended", `${timestamp(call.endTime)} (${duration(call)})`] as const]),
          ...(call.scheduleId === undefined ? [] : [["schedule id", String(call.scheduleId)] as const]),
          ...(call.error === undefined ? [] : [["error", call.error.message] as const])
        ])
      )
      if (!out.json && call.error?.trace !== undefined) {
        yield* out.line("trace:")
        for (const line of call.error.trace.trimEnd().split("\n")) yield* out.line(`    ${line}`)
      }
    })
  ))

/** `calls response`. */
export const response = handler(
  Tree.callsResponse,
  (args) =>
    Common.run(
      args,
      Effect.gen(function*() {
        const out = yield* Output
        const callId = yield* Common.id("call id", args.callId)
        const body = yield* (yield* Calls).response(Common.ref(args.fn), callId)
        if (Option.isNone(body) && !out.json) return yield* out.note("(the call returned no response)")
        yield* out.line(pretty(Option.getOrNull(body)))
      })
    )
)

/** `calls logs`. */
export const logs = handler(Tree.callsLogs, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const calls = yield* Calls
      const callId = yield* Common.id("call id", args.callId)
      if (args.follow) {
        const functionId = yield* functionIdOf(args.fn)
        const lines = calls.followLogs({ functionId, callId })
        if (out.json) {
          return yield* out.document(Chunk.toReadonlyArray(yield* Stream.runCollect(lines)))
        }
        return yield* Stream.runForEach(lines, (entry) => out.line(entry.message ?? ""))
      }
      const entries = yield* calls.logs(Common.ref(args.fn), callId)
      yield* out.result(entries, Effect.forEach(entries, (entry) => out.line(entry.message ?? ""), { discard: true }))
    })
  ))

/** `calls reconcile`: the call a cut-off send created, on the evidence of its session, or what is known. */
export const reconcile = handler(Tree.callsReconcile, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      if (args.sentAt <= 0) return yield* new UsageError({ message: "--sent-at must be epoch milliseconds" })
      const sessionId = args.sessionId === undefined
        ? undefined
        : yield* Common.id("--session-id", String(args.sessionId))
      const window = args.window === undefined ? undefined : yield* Common.duration("--window", args.window)
      const call = yield* (yield* Calls).reconcile(Common.ref(args.fn), {
        sentAt: args.sentAt,
        ...(sessionId === undefined ? {} : { sessionId }),
        ...(window === undefined ? {} : { window })
      })
      yield* out.result(
        call,
        Effect.gen(function*() {
          yield* out.line(`found call ${call.id} of function ${call.functionId} (${call.status})`)
          yield* out.line(`wait for it with: ${resumeCommand(call.functionId, call.id, call.startTime)}`)
        })
      )
    })
  ))
