/**
 * What a JavaScript worker or a Python runner answers for one call, decoded with a `Schema`, and the
 * call's outcome from it: the same reading for both runtimes.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import type { LogLine, RunOutcome, RunRequest } from "./types.js"
import { failed, memoryExceededMessage, notSerialisableMessage, responseTooLargeMessage } from "./types.js"

const trace = Schema.optional(Schema.NullOr(Schema.String))
/** Set when the runner ends itself after this reply (it could not import the handler, or ran out of memory). */
const fatal = Schema.optional(Schema.Boolean)

/** The handler returned; `json` is its response as JSON text, within the size limit. */
export const Ok = Schema.Struct({ kind: Schema.Literal("ok"), json: Schema.String })
/** The handler raised or rejected. */
export const Exception = Schema.Struct({ kind: Schema.Literal("exception"), message: Schema.String, trace, fatal })
/** The response is not JSON. */
export const NotJson = Schema.Struct({ kind: Schema.Literal("notJson"), reason: Schema.String })
/** The response is over the size limit. */
export const TooLarge = Schema.Struct({ kind: Schema.Literal("tooLarge"), bytes: Schema.Number })
/** The handler ran out of memory. */
export const Memory = Schema.Struct({ kind: Schema.Literal("memory"), trace, fatal })

/** One call's reply. */
export const Reply = Schema.Union(Ok, Exception, NotJson, TooLarge, Memory)
/** One call's reply. */
export type Reply = typeof Reply.Type

/** A reply from its JSON text. */
export const decodeReplyText = Schema.decodeUnknownEither(Schema.parseJson(Reply))

/** The message of a reply that could not be read. */
export const malformedReply = "The function's process returned a malformed result."

/** The outcome of a call from its reply. */
export const outcomeOf = (reply: Reply, req: RunRequest, logs: ReadonlyArray<LogLine>): RunOutcome => {
  switch (reply.kind) {
    case "ok": {
      let response: unknown
      try {
        response = JSON.parse(reply.json)
      } catch {
        return failed(logs, malformedReply)
      }
      return { status: "Completed", response, logs }
    }
    case "exception":
      return failed(logs, reply.message, reply.trace ?? undefined)
    case "memory":
      return failed(logs, memoryExceededMessage(req.memoryMb), reply.trace ?? undefined)
    case "notJson":
      return failed(logs, notSerialisableMessage(reply.reason))
    case "tooLarge":
      return failed(logs, responseTooLargeMessage(reply.bytes, req.responseSizeLimitBytes))
  }
}
