/** Checking the ids a user passes, before anything is sent. */
import { Ids } from "@effect-cdf/core"
import { InvalidInput } from "@effect-cdf/core/Errors"
import { Effect, Either, Schema } from "effect"

/** A checker for one kind of internal id: an integer in 1..2^53-1, else `InvalidInput` naming `subject`. */
export const validId = <A>(schema: Schema.Schema<A, number>, subject: string) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (id: number): Effect.Effect<A, InvalidInput> =>
    Either.match(decode(id), {
      onLeft: () => Effect.fail(new InvalidInput({ subject, issue: `${id} is not an integer from 1 to 2^53-1` })),
      onRight: Effect.succeed
    })
}

/** A call id. */
export const validCallId = validId(Ids.CallId, "call id")

/** A schedule id. */
export const validScheduleId = validId(Ids.ScheduleId, "schedule id")
