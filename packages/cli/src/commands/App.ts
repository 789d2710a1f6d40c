/**
 * `cdf-fn app call <external-id> <METHOD> <path>`: call a route of a Function App.
 *
 * @since 0.1.0
 */
import * as FunctionApp from "@effect-cdf/core/FunctionApp"
import { FunctionApps } from "@effect-cdf/functions/FunctionApps"
import { Effect, Schema } from "effect"
import * as Common from "../Command.js"
import { AppFailed, compact, pretty, UsageError } from "../Output.js"
import { handler } from "../Spec.js"
import * as Tree from "../Tree.js"

const isMethod = Schema.is(FunctionApp.AppMethod)

/** `app call`. */
export const call = handler(Tree.appCall, (args) =>
  Common.runWith(args, (out) =>
    Effect.gen(function*() {
      const method = args.method.toUpperCase()
      if (!isMethod(method)) {
        return yield* new UsageError({
          message: `unknown method ${args.method}: use ${FunctionApp.AppMethod.literals.join(", ")}`
        })
      }
      const body = args.body === undefined ? undefined : yield* Common.jsonValue("--body", args.body)
      const result = yield* (yield* FunctionApps).call(args.externalId, {
        method,
        path: args.path,
        ...(body === undefined ? {} : { body })
      }, { async: args.async })
      const envelope = result.envelope
      if (envelope._tag === "AppError") {
        return yield* new AppFailed({
          callId: result.callId,
          statusCode: envelope.status_code,
          errorType: envelope.error_type,
          detail: envelope.message + (envelope.details === undefined ? "" : ` ${compact(envelope.details)}`)
        })
      }
      yield* out.result(
        {
          callId: result.callId,
          functionId: result.functionId,
          statusCode: envelope.status_code,
          data: envelope.data ?? null
        },
        Effect.gen(function*() {
          if (out.interactive) {
            yield* out.note(`${envelope.status_code} (call ${result.callId} of function ${result.functionId})`)
          }
          yield* out.line(pretty(envelope.data ?? null))
        })
      )
    })))
