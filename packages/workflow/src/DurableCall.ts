/**
 * Durable calls of Cognite Functions, to compose inside your own `Workflow.make` bodies: one call, a
 * sequence, a fan-out. Each call is one activity: it records the send (its time and the session made for
 * it) in the `CallLedger` before `POST .../call` leaves (a re-run finds the call there, or reconciles on
 * the session's evidence, and sends again only when that proves the call was not created), then
 * polls in memory until the call ends. Only waits longer than `roundFor` sleep durably between rounds,
 * each further round an activity of its own.
 *
 * The results and errors are those of `Calls.call`: `Completed` with the decoded response, or
 * `CallFailed`, `CallTimedOut`, `PollDeadlineExceeded`, `CallOutcomeUnknown`, `DecodeError`, ...
 *
 * @example
 * ```ts
 * import { DurableCall } from "@effect-cdf/workflow"
 * import { Workflow } from "@effect/workflow"
 * import { Effect, Schema } from "effect"
 *
 * const Pipeline = Workflow.make({
 *   name: "pipeline",
 *   payload: { assetId: Schema.Number },
 *   success: Schema.Number,
 *   error: DurableCall.CallErrorSchema,
 *   idempotencyKey: ({ assetId }) => `pipeline-${assetId}`
 * })
 *
 * export const PipelineLive = Pipeline.toLayer(({ assetId }) =>
 *   Effect.gen(function*() {
 *     const prepared = yield* DurableCall.call("prepare", "prepare", { assetId })
 *     const scores = yield* Effect.all(
 *       [1, 2, 3].map((part) => DurableCall.call(`score-${part}`, "score", { assetId, part, from: prepared.call.id })),
 *       { concurrency: "unbounded" }
 *     )
 *     return scores.length
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 */
import { CogniteFunction } from "@effect-cdf/core"
import { decodeError, InvalidInput } from "@effect-cdf/core/Errors"
import type { CallError, Calls, Completed } from "@effect-cdf/functions/Calls"
import type * as FunctionDef from "@effect-cdf/functions/FunctionDef"
import { isFunctionDef } from "@effect-cdf/functions/FunctionDef"
import type { FunctionRef } from "@effect-cdf/functions/FunctionRef"
import type { Functions } from "@effect-cdf/functions/Functions"
import type { Sessions } from "@effect-cdf/functions/Sessions"
import { Activity, DurableClock } from "@effect/workflow"
import { WorkflowEngine } from "@effect/workflow"
import type { Schedule } from "effect"
import { Duration, Effect, Either, Schema } from "effect"
import type { CallLedger } from "./CallLedger.js"
import { start, type StartResult } from "./internal/start.js"
import { ErrorSchema, RoundSchema, waitRound } from "./internal/wait.js"

/** How a durable call starts and waits. */
export interface Options {
  /**
   * The idempotency key of this logical call. Default `<execution id>/<name>`: unique per call, stable
   * across re-runs of the workflow. Two calls with one key are one call.
   */
  readonly key?: string | undefined
  /** How long to wait at most, counted from the send. Default: the project's call timeout plus a minute. */
  readonly deadline?: Duration.DurationInput | undefined
  /** The poll schedule inside a round; `Polling.defaultSchedule` by default. */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** How far before the send a call may have started and still be this one (clock skew). Default 30 s. */
  readonly reconcileWindow?: Duration.DurationInput | undefined
  /** How long one wait activity polls in memory. Default 15 minutes (a whole CDF call, usually). */
  readonly roundFor?: Duration.DurationInput | undefined
  /** The durable sleep between rounds of a long wait. Default 2 minutes (longer than 60 s, so it is stored). */
  readonly sleepBetweenRounds?: Duration.DurationInput | undefined
}

/** Options with a schema for the response. */
export interface CallOptions<A = unknown, I = unknown> extends Options {
  readonly schema?: Schema.Schema<A, I> | undefined
}

/** What a durable call needs: the workflow engine and instance, the calls services and the ledger. */
export type Requirements =
  | WorkflowEngine.WorkflowEngine
  | WorkflowEngine.WorkflowInstance
  | Calls
  | Functions
  | Sessions
  | CallLedger

/** Every error a durable call can end with (`Calls.CallError`), as a schema: use it as your workflow's `error`. */
export const CallErrorSchema = ErrorSchema

const DEFAULT_ROUND = Duration.minutes(15)
const DEFAULT_SLEEP = Duration.minutes(2)
const DEFAULT_WINDOW = Duration.seconds(30)
const decodeInputData = Schema.decodeUnknownEither(CogniteFunction.FunctionInput)

const validData = (data: unknown): Effect.Effect<Readonly<Record<string, unknown>>, InvalidInput> =>
  data === undefined ? Effect.succeed({}) : Either.match(decodeInputData(data), {
    onLeft: () => Effect.fail(new InvalidInput({ subject: "call data", issue: "a function's data is a JSON object" })),
    onRight: Effect.succeed
  })

const run = Effect.fnUntraced(function*<A, I>(
  name: string,
  fn: FunctionRef,
  data: Readonly<Record<string, unknown>>,
  options: CallOptions<A, I>
) {
  const instance = yield* WorkflowEngine.WorkflowInstance
  const key = options.key ?? `${instance.executionId}/${name}`
  yield* Effect.annotateCurrentSpan({ "durable.key": key, "workflow.executionId": instance.executionId })
  const config = {
    key,
    executionId: instance.executionId,
    fn,
    data,
    reconcileWindow: Duration.decode(options.reconcileWindow ?? DEFAULT_WINDOW)
  }
  const deadline = options.deadline === undefined ? undefined : Duration.decode(options.deadline)
  const roundFor = Duration.decode(options.roundFor ?? DEFAULT_ROUND)
  const wait = (started: StartResult) => waitRound({ started, deadline, roundFor, schedule: options.schedule })
  let resumed: StartResult | undefined
  for (let round = 0;; round++) {
    // the first round starts the call too: one activity, a few rows per call. A re-run of it finds the
    // call in the ledger (or reconciles); it sends the POST again only once it is proven not created
    const result = yield* Activity.make({
      name: `cdf-call/${name}/${round}`,
      success: RoundSchema,
      error: ErrorSchema,
      execute: resumed === undefined ? Effect.flatMap(start(config), wait) : wait(resumed)
    })
    yield* Effect.annotateCurrentSpan({ functionId: result.handle.functionId, callId: result.handle.callId })
    if (result._tag === "Ended") {
      const response = options.schema === undefined
        // without a schema the response is `unknown` (A defaults to it), handed over as it arrived
        ? result.response as A
        : yield* Schema.decodeUnknown(options.schema)(result.response).pipe(
          Effect.mapError((error) => decodeError(`response of call ${result.handle.callId}`, error, result.response))
        )
      const completed: Completed<A> = { call: result.call, handle: result.handle, report: result.report, response }
      return completed
    }
    resumed = { call: result.call, handle: result.handle, report: result.report }
    yield* DurableClock.sleep({
      name: `cdf-call/${name}/sleep/${round}`,
      duration: options.sleepBetweenRounds ?? DEFAULT_SLEEP
    })
  }
})

/**
 * A durable call inside a workflow body. `name` names this call within its workflow: it must be
 * deterministic and unique in the execution (`"score-3"`, not a random id), since the activities and the
 * default idempotency key are derived from it. With a `FunctionDef` the input is encoded and the response
 * decoded by its schemas.
 */
export const call: {
  <I, IE, O, OE>(
    name: string,
    definition: FunctionDef.FunctionDef<I, IE, O, OE>,
    input: I,
    options?: Options
  ): Effect.Effect<Completed<O>, CallError, Requirements>
  <A = unknown, I = unknown>(
    name: string,
    fn: FunctionRef,
    data?: Readonly<Record<string, unknown>> | undefined,
    options?: CallOptions<A, I>
  ): Effect.Effect<Completed<A>, CallError, Requirements>
} = ((
  name: string,
  target: FunctionRef | FunctionDef.Any,
  data?: unknown,
  options: CallOptions<unknown, unknown> = {}
): Effect.Effect<Completed<unknown>, CallError, Requirements> =>
  Effect.gen(function*() {
    if (isFunctionDef(target)) {
      const encoded = yield* Schema.encode(target.input)(data).pipe(
        Effect.mapError((error) =>
          new InvalidInput({ subject: `input of ${target.externalId}`, issue: decodeError("input", error, {}).issue })
        )
      )
      return yield* run(name, { externalId: target.externalId }, yield* validData(encoded), {
        ...options,
        schema: target.output
      })
    }
    return yield* run(name, target, yield* validData(data), options)
  }).pipe(Effect.withSpan("DurableCall.call", { attributes: { "durable.name": name } }))) as typeof call
