/**
 * How a function is named in every operation: its id, its external id, or a typed definition.
 *
 * @since 0.1.0
 */
import { Ids } from "@effect-cdf/core"
import { InvalidInput } from "@effect-cdf/core/Errors"
import { Effect, Either, Schema } from "effect"

/**
 * A function: a number is its id, a string its external id; `{ id }` and `{ externalId }` say which
 * explicitly. A `FunctionDef` is not a reference (it has a `_tag`): passed to `Calls.call`, its input is typed.
 */
export type FunctionRef =
  | number
  | string
  | { readonly id: number; readonly externalId?: undefined; readonly _tag?: undefined }
  | { readonly externalId: string; readonly id?: undefined; readonly _tag?: undefined }

/** A reference after validation: an id in 1..2^53-1 or an external id of 1..255 characters. */
export type ValidRef =
  | { readonly _tag: "Id"; readonly id: Ids.FunctionId }
  | { readonly _tag: "ExternalId"; readonly externalId: Ids.ExternalId }

const decodeId = Schema.decodeUnknownEither(Ids.FunctionId)
const decodeXid = Schema.decodeUnknownEither(Ids.ExternalId)

/** Checks a reference before anything is sent: a bad id or external id is an `InvalidInput`. */
export const validate = (ref: FunctionRef): Effect.Effect<ValidRef, InvalidInput> => {
  const id = typeof ref === "number" ? ref : typeof ref === "object" && ref.id !== undefined ? ref.id : undefined
  if (id !== undefined) {
    return Either.match(decodeId(id), {
      onLeft: () =>
        Effect.fail(new InvalidInput({ subject: "function id", issue: `${id} is not an integer from 1 to 2^53-1` })),
      onRight: (id) => Effect.succeed({ _tag: "Id" as const, id })
    })
  }
  const xid = typeof ref === "string" ? ref : typeof ref === "object" ? ref.externalId : undefined
  return Either.match(decodeXid(xid), {
    onLeft: () =>
      Effect.fail(
        new InvalidInput({ subject: "function external id", issue: "an external id is a string of 1..255 characters" })
      ),
    onRight: (externalId) => Effect.succeed({ _tag: "ExternalId" as const, externalId })
  })
}

/** The wire identifier of a reference: `{ id }` or `{ externalId }`. */
export const toIdentifier = (ref: ValidRef): Ids.Identifier =>
  ref._tag === "Id" ? { id: ref.id } : { externalId: ref.externalId }

/** A short description for messages: `function 123` or `function "my-fn"`. */
export const describe = (ref: ValidRef): string =>
  ref._tag === "Id" ? `function ${ref.id}` : `function "${ref.externalId}"`
