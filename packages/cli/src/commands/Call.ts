/**
 * `cdf-fn call` and `cdf-fn await`: call a function and wait for it with a progress line, or resume
 * waiting on a call started earlier. Ctrl-C stops waiting (not the call) and prints how to resume.
 *
 * @since 0.1.0
 */
import * as FunctionCall from "@effect-cdf/core/FunctionCall"
import type { CallError, Completed } from "@effect-cdf/functions/Calls"
import { Calls } from "@effect-cdf/functions/Calls"
import * as Polling from "@effect-cdf/functions/Polling"
import type { Duration } from "effect"
import { Effect, Option, Schedule, Schema } from "effect"
import * as Common from "../Command.js"
import { Output, pretty, resumeCommand, seconds, UsageError } from "../Output.js"
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

/** Prints where to resume after Ctrl-C stopped waiting on a call. */
const interrupted = (handle: FunctionCall.CallHandle) =>
  Effect.gen(function*() {
    const out = yield* Output
    const target = yield* Target
    yield* out.note(
      `interrupted: stopped waiting; call ${handle.callId} of function ${handle.functionId} may still be running`
    )
    yield* out.note(`resume waiting with: ${resumeCommand(handle.functionId, handle.callId)}`)
    if (target.kind === "embedded" && Option.isNone(target.dataDir)) {
      yield* out.note(
        "(the embedded emulator stops with this command; to resume calls later, run `cdf-fn emulator start` and set the COGNITE_* variables it prints)"
      )
    }
  })

/**
 * Waits for a started call with a progress line on a TTY; Ctrl-C interrupts the wait, prints the call id
 * and the command that resumes it.
 */
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
  }).pipe(Effect.scoped, Effect.onInterrupt(() => interrupted(handle)))

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

/** `cdf-fn call`. */
export const call = handler(Tree.call, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const data = yield* Common.jsonObject("--data", Option.fromNullable(args.data))
      const deadline = yield* deadlineOption(args.timeout)
      // no call id exists until the POST is answered: then say so, and how to look, rather than a resume hint
      const started = yield* (yield* Calls).start(Common.ref(args.fn), data).pipe(
        Effect.onInterrupt(() =>
          out.note(
            `interrupted while starting the call: it may have started; \`cdf-fn calls list ${args.fn} --status Running\` shows it`
          )
        )
      )
      const { callId, functionId, startedAt } = started.handle
      if (args.noWait) {
        return yield* out.result(
          { functionId, callId, status: started.call.status, startedAt },
          Effect.gen(function*() {
            yield* out.line(`started call ${callId} of function ${functionId} (${started.call.status})`)
            yield* out.line(`wait for it with: ${resumeCommand(functionId, callId)} --started-at ${startedAt}`)
          })
        )
      }
      yield* printOutcome(yield* waitFor(started.handle, deadline))
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
      yield* printOutcome(yield* waitFor(handle, deadline))
    })
  ))
