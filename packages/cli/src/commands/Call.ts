/**
 * `cdf-fn call` and `cdf-fn await`: call a function and wait for it with a progress line, or resume
 * waiting on a call started earlier. Ctrl-C stops waiting (not the call) and prints how to resume.
 *
 * @since 0.1.0
 */
import * as FunctionCall from "@effect-cdf/core/FunctionCall"
import type { CallError, Completed, Sending } from "@effect-cdf/functions/Calls"
import { Calls } from "@effect-cdf/functions/Calls"
import * as Polling from "@effect-cdf/functions/Polling"
import type { Duration } from "effect"
import { Effect, Option, Ref, Schedule, Schema } from "effect"
import * as Common from "../Command.js"
import {
  HINTS_INTERRUPTS,
  Output,
  pretty,
  reconcileCommand,
  resumeCommand,
  seconds,
  timestamp,
  UsageError
} from "../Output.js"
import * as Progress from "../Progress.js"
import { handler } from "../Spec.js"
import { Target } from "../Target.js"
import * as Tree from "../Tree.js"

/** A call that completed, with what waiting cost. */
export interface Outcome {
  readonly completed: Completed<unknown>
  /** Polls of the call's status, counted by the CLI's schedule. */
  readonly polls: number
  /** Milliseconds from the start of waiting until the end. */
  readonly waitedMillis: number
}

/** The note that the embedded emulator, and every call on it, ends with this command. */
const embeddedEnds = Effect.gen(function*() {
  const target = yield* Target
  if (target.kind === "embedded" && Option.isNone(target.dataDir)) {
    yield* (yield* Output).note(
      "(the embedded emulator stops with this command; to resume calls later, run `cdf-fn emulator start` and set the COGNITE_* variables it prints)"
    )
  }
})

/** Prints where to resume after Ctrl-C stopped waiting on a call. */
const interrupted = (handle: FunctionCall.CallHandle) =>
  Effect.gen(function*() {
    const out = yield* Output
    yield* out.note(
      `interrupted: stopped waiting; call ${handle.callId} of function ${handle.functionId} may still be running`
    )
    yield* out.note(`resume waiting with: ${resumeCommand(handle.functionId, handle.callId, handle.startedAt)}`)
    yield* embeddedEnds
  })

/**
 * Prints what is known after Ctrl-C stopped `call` before it had a call id: nothing was sent, or the POST
 * had left and the call may exist (then when, with which session, and the command that finds it).
 */
const interruptedSending = (sending: Option.Option<Sending>) =>
  Effect.gen(function*() {
    const out = yield* Output
    if (Option.isNone(sending)) {
      return yield* out.note("interrupted before the call was sent: no call was made")
    }
    const { functionId, sentAt, sessionId } = sending.value
    yield* out.note(
      `interrupted while the call was being sent: call of function ${functionId} may exist (sent at ${sentAt}, ${
        timestamp(sentAt)
      }${sessionId === undefined ? "" : `, session ${sessionId}`})`
    )
    yield* out.note(`find it with: ${reconcileCommand(functionId, sentAt, sessionId)}`)
    yield* embeddedEnds
  })

/** Waits for a started call with a progress line on a TTY. */
export const waitFor = (
  handle: FunctionCall.CallHandle,
  deadline: Option.Option<Duration.Duration>
): Effect.Effect<Outcome, CallError, Calls | Output | Target> =>
  Effect.gen(function*() {
    const calls = yield* Calls
    const progress = yield* Progress.make(`call ${handle.callId}`)
    const schedule = Polling.defaultSchedule.pipe(Schedule.tapOutput(() => progress.poll))
    const started = Date.now()
    const completed = yield* calls.await(handle, {
      schedule,
      ...(Option.isSome(deadline) ? { deadline: deadline.value } : {})
    })
    return { completed, polls: completed.report.polls, waitedMillis: Date.now() - started }
  }).pipe(Effect.scoped)

/** The JSON document of a completed call. */
export const outcomeJson = (outcome: Outcome) => ({
  functionId: outcome.completed.handle.functionId,
  callId: outcome.completed.handle.callId,
  status: outcome.completed.call.status,
  response: outcome.completed.response ?? null,
  polls: outcome.polls,
  waitedMillis: outcome.waitedMillis
})

/** Prints a completed call: the response on stdout; on a TTY a summary line on stderr. */
export const printOutcome = (outcome: Outcome) =>
  Effect.gen(function*() {
    const out = yield* Output
    if (out.json) return yield* out.document(outcomeJson(outcome))
    const { call, handle } = outcome.completed
    if (out.interactive) {
      yield* out.note(
        `${
          out.style.green("✓")
        } call ${handle.callId} of function ${handle.functionId} ${call.status} after ${outcome.polls} poll${
          outcome.polls === 1 ? "" : "s"
        } in ${seconds(outcome.waitedMillis)}`
      )
    }
    yield* out.line(pretty(outcome.completed.response ?? null))
  })

const deadlineOption = (timeout: string | undefined) =>
  timeout === undefined
    ? Effect.succeed(Option.none<Duration.Duration>())
    : Effect.map(Common.duration("--timeout", timeout), Option.some)

/** What `call` knows of its call at any moment, for Ctrl-C: nothing yet, the send (the call may exist), or its handle. */
interface Known {
  readonly sending: Option.Option<Sending>
  readonly handle: Option.Option<FunctionCall.CallHandle>
}

/** Prints, after Ctrl-C, the honest hint for what `call` knew: resume, reconcile, or nothing was sent. */
const interruptedCall = (known: Known) =>
  Option.match(known.handle, { onNone: () => interruptedSending(known.sending), onSome: interrupted })

/** `cdf-fn call`. */
export const call = handler(Tree.call, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const data = yield* Common.jsonObject("--data", Option.fromNullable(args.data))
      const deadline = yield* deadlineOption(args.timeout)
      const known = yield* Ref.make<Known>({ sending: Option.none(), handle: Option.none() })
      // the SDK runs both hooks uninterruptibly, before the POST leaves and once the call is known
      const body = Effect.gen(function*() {
        const started = yield* (yield* Calls).start(Common.ref(args.fn), data, {
          onSending: (sending) => Ref.update(known, (k) => ({ ...k, sending: Option.some(sending) })),
          onStarted: (started) => Ref.update(known, (k) => ({ ...k, handle: Option.some(started.handle) }))
        })
        const { callId, functionId, startedAt } = started.handle
        if (args.noWait) {
          return yield* out.result(
            { functionId, callId, status: started.call.status, startedAt },
            Effect.gen(function*() {
              yield* out.line(`started call ${callId} of function ${functionId} (${started.call.status})`)
              yield* out.line(`wait for it with: ${resumeCommand(functionId, callId, startedAt)}`)
            })
          )
        }
        yield* printOutcome(yield* waitFor(started.handle, deadline))
      })
      yield* body.pipe(
        Effect.onInterrupt(() => Effect.flatMap(Ref.get(known), interruptedCall)),
        Effect.locally(HINTS_INTERRUPTS, true)
      )
    })
  ))

/** `cdf-fn await`. */
export const await_ = handler(Tree.await_, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const functionId = yield* Common.id("function id", args.functionId)
      const callId = yield* Common.id("call id", args.callId)
      const deadline = yield* deadlineOption(args.timeout)
      const handle = yield* Schema.decodeUnknown(FunctionCall.CallHandle)({
        functionId,
        callId,
        startedAt: args.startedAt ?? Date.now()
      }).pipe(Effect.mapError(() => new UsageError({ message: "--started-at must be epoch milliseconds" })))
      yield* waitFor(handle, deadline).pipe(
        Effect.onInterrupt(() => interrupted(handle)),
        Effect.locally(HINTS_INTERRUPTS, true),
        Effect.flatMap(printOutcome)
      )
    })
  ))
