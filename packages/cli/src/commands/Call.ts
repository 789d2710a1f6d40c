/**
 * `cdf-fn call` and `cdf-fn await`: call a function and wait for it with a progress line, or resume
 * waiting on a call started earlier. Ctrl-C stops waiting (not the call) and prints how to resume.
 *
 * @since 0.1.0
 */
import { FunctionCall } from "@effect-cdf/core"
import type { CallError, Completed } from "@effect-cdf/functions/Calls"
import { Calls } from "@effect-cdf/functions/Calls"
import * as Polling from "@effect-cdf/functions/Polling"
import { Args, Command, Options } from "@effect/cli"
import type { Duration } from "effect"
import { Effect, Option, Schedule, Schema } from "effect"
import * as Common from "../Common.js"
import { Output, pretty, resumeCommand, seconds, UsageError } from "../Output.js"
import * as Progress from "../Progress.js"
import { Target } from "../Target.js"

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

const deadlineOption = (timeout: Option.Option<string>) =>
  Option.match(timeout, {
    onNone: () => Effect.succeed(Option.none<Duration.Duration>()),
    onSome: (text) => Effect.map(Common.duration("--timeout", text), Option.some)
  })

const timeoutOption = Options.text("timeout").pipe(
  Options.withDescription("Stop waiting after this long, e.g. 30s or 5m (default: the project's call timeout + 1 min)"),
  Options.optional
)

const call = Command.make("call", {
  ...Common.options,
  fn: Args.text({ name: "function" }).pipe(Args.withDescription("A function id (all digits) or external id")),
  data: Options.text("data").pipe(
    Options.withDescription("The call's data: a JSON object, or @file.json"),
    Options.optional
  ),
  noWait: Options.boolean("no-wait").pipe(Options.withDescription("Start the call and print its id; do not wait")),
  timeout: timeoutOption
}, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const data = yield* Common.jsonObject("--data", args.data)
      const deadline = yield* deadlineOption(args.timeout)
      const started = yield* (yield* Calls).start(Common.ref(args.fn), data)
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
  )).pipe(Command.withDescription("Call a function and wait for its response"))

const await_ = Command.make("await", {
  ...Common.options,
  functionId: Args.text({ name: "function-id" }),
  callId: Args.text({ name: "call-id" }),
  startedAt: Options.integer("started-at").pipe(
    Options.withDescription("When the call was sent (epoch ms), as `call --no-wait` prints it"),
    Options.optional
  ),
  timeout: timeoutOption
}, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const functionId = yield* Common.id("function id", args.functionId)
      const callId = yield* Common.id("call id", args.callId)
      const deadline = yield* deadlineOption(args.timeout)
      const handle = yield* Schema.decodeUnknown(FunctionCall.CallHandle)({
        functionId,
        callId,
        startedAt: Option.getOrElse(args.startedAt, () => Date.now())
      }).pipe(Effect.mapError(() => new UsageError({ message: "--started-at must be epoch milliseconds" })))
      yield* printOutcome(yield* waitFor(handle, deadline))
    })
  )).pipe(Command.withDescription("Resume waiting on a call started earlier"))

/** `cdf-fn call`. */
export const callCommand = call

/** `cdf-fn await`. */
export const awaitCommand = await_
