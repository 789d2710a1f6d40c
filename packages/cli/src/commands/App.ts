/**
 * `cdf-fn app call <external-id> <METHOD> <path>`: call a route of a Function App.
 *
 * @since 0.1.0
 */
import { FunctionApp } from "@effect-cdf/core"
import { FunctionApps } from "@effect-cdf/functions/FunctionApps"
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import * as Common from "../Common.js"
import { AppFailed, compact, Output, pretty, UsageError } from "../Output.js"

const isMethod = Schema.is(FunctionApp.AppMethod)

const call = Command.make("call", {
  ...Common.options,
  externalId: Args.text({ name: "external-id" }).pipe(Args.withDescription("The app's external id")),
  method: Args.text({ name: "method" }).pipe(Args.withDescription("GET, POST, PUT, DELETE, PATCH or OPTIONS")),
  path: Args.text({ name: "path" }).pipe(Args.withDescription("The route, e.g. /items/1")),
  body: Options.text("body").pipe(
    Options.withDescription("The request body: JSON, or @file.json"),
    Options.optional
  ),
  async: Options.boolean("async").pipe(
    Options.withDescription("Ask for an asynchronous call (Prefer: respond-async) and poll for its result")
  )
}, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const method = args.method.toUpperCase()
      if (!isMethod(method)) {
        return yield* new UsageError({
          message: `unknown method ${args.method}: use ${FunctionApp.AppMethod.literals.join(", ")}`
        })
      }
      const body = yield* Option.match(args.body, {
        onNone: () => Effect.succeed(undefined),
        onSome: (text) => Common.jsonValue("--body", text)
      })
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
    })
  )).pipe(Command.withDescription("Call a route of a Function App and print its data"))

/** `cdf-fn app`. */
export const command = Command.make("app").pipe(
  Command.withDescription("Function Apps (preview): call a route"),
  Command.withSubcommands([call])
)
