/**
 * A ready workflow for the single durable call: register `layer` on a runner, then `call` (waits) or
 * `start` (returns the execution id; `poll` or `call` again with the same key to get the result, from
 * any process sharing the store).
 *
 * @example
 * ```ts
 * import { CallWorkflow } from "@effect-cdf/workflow"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const result = yield* CallWorkflow.call("my-function", { x: 1 }, { key: "order-42" })
 *   return result.response
 * })
 * ```
 *
 * @since 0.1.0
 */
import { FunctionCall } from "@effect-cdf/core"
import { decodeError, InvalidInput } from "@effect-cdf/core/Errors"
import type { CallError, Completed } from "@effect-cdf/functions/Calls"
import type * as FunctionDef from "@effect-cdf/functions/FunctionDef"
import type { FunctionRef } from "@effect-cdf/functions/FunctionRef"
import { Workflow } from "@effect/workflow"
import type { WorkflowEngine } from "@effect/workflow"
import { Duration, Effect, Schema } from "effect"
import * as DurableCall from "./DurableCall.js"
import { ErrorSchema, ReportSchema } from "./internal/wait.js"

const FunctionRefSchema = Schema.Union(
  Schema.Number,
  Schema.String,
  Schema.Struct({ id: Schema.Number }),
  Schema.Struct({ externalId: Schema.String })
)

/** The ready workflow: one durable call, its payload keyed by `key`. */
export const CallWorkflow = Workflow.make({
  name: "cdf/call",
  payload: {
    key: Schema.String,
    function: FunctionRefSchema,
    data: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
    deadlineMillis: Schema.optional(Schema.Number)
  },
  success: Schema.Struct({
    call: FunctionCall.FunctionCall,
    handle: FunctionCall.CallHandle,
    report: ReportSchema,
    response: Schema.Unknown
  }),
  error: ErrorSchema,
  idempotencyKey: (payload) => payload.key
})

/** The runner side of `CallWorkflow`: provide it where the workflow engine runs. */
export const layer = CallWorkflow.toLayer((payload) =>
  DurableCall.call("call", payload.function, payload.data, {
    key: payload.key,
    ...(payload.deadlineMillis === undefined ? {} : { deadline: Duration.millis(payload.deadlineMillis) })
  })
)

/** How to run the ready workflow. */
export interface Options {
  /**
   * The idempotency key: the same key is the same logical call (a second `call` attaches to the first).
   * Default: a new random key, so every `call` is a new logical call.
   */
  readonly key?: string | undefined
  readonly deadline?: Duration.DurationInput | undefined
}

const payloadOf = (fn: FunctionRef, data: Readonly<Record<string, unknown>>, options: Options) => ({
  key: options.key ?? crypto.randomUUID(),
  function: fn,
  data,
  ...(options.deadline === undefined ? {} : { deadlineMillis: Duration.toMillis(Duration.decode(options.deadline)) })
})

/** Runs one durable call and waits for it (the runner may be this process or another one). */
export const call = <A = unknown, I = unknown>(
  fn: FunctionRef,
  data: Readonly<Record<string, unknown>> = {},
  options: Options & { readonly schema?: Schema.Schema<A, I> | undefined } = {}
): Effect.Effect<Completed<A>, CallError, WorkflowEngine.WorkflowEngine> =>
  CallWorkflow.execute(payloadOf(fn, data, options)).pipe(
    Effect.flatMap((result) =>
      options.schema === undefined
        ? Effect.succeed({ ...result, response: result.response as A })
        : Schema.decodeUnknown(options.schema)(result.response).pipe(
          Effect.mapError((error) => decodeError(`response of call ${result.handle.callId}`, error, result.response)),
          Effect.map((response) => ({ ...result, response }))
        )
    ),
    Effect.withSpan("CallWorkflow.call")
  )

const asInvalid = (issue: string) => new InvalidInput({ subject: "durable call", issue })

/** Runs one durable call of a typed definition and waits: input encoded, output decoded by its schemas. */
export const callDef = <I, IE, O, OE>(
  definition: FunctionDef.FunctionDef<I, IE, O, OE>,
  input: I,
  options: Options = {}
): Effect.Effect<Completed<O>, CallError, WorkflowEngine.WorkflowEngine> =>
  Schema.encode(definition.input)(input).pipe(
    Effect.mapError((error) =>
      new InvalidInput({ subject: `input of ${definition.externalId}`, issue: decodeError("input", error, {}).issue })
    ),
    Effect.flatMap((data) =>
      Schema.decodeUnknown(Schema.Record({ key: Schema.String, value: Schema.Unknown }))(data).pipe(
        Effect.mapError(() => asInvalid("a function's data is a JSON object"))
      )
    ),
    Effect.flatMap((data) =>
      call({ externalId: definition.externalId }, data, { ...options, schema: definition.output })
    )
  )

/** Starts one durable call and returns at once with its execution id (the idempotency key's run). */
export const start = (
  fn: FunctionRef,
  data: Readonly<Record<string, unknown>> = {},
  options: Options = {}
): Effect.Effect<string, never, WorkflowEngine.WorkflowEngine> =>
  CallWorkflow.execute(payloadOf(fn, data, options), { discard: true })

/** The result of a started durable call: `undefined` while it runs. */
export const poll = (executionId: string) => CallWorkflow.poll(executionId)
