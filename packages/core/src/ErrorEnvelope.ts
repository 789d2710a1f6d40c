/**
 * The Cognite error envelope: `{"error": {code, message, missing?, duplicated?}}`, or `{"error": "..."}`
 * from some services. Either form decodes into one shape.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { JsonObject, optional } from "./internal/schema.js"

/** An item the API named as missing or duplicated: by id or by external id (either spelling on the wire). */
export class ItemReference extends Schema.Class<ItemReference>("ItemReference")({
  id: Schema.optionalWith(Schema.Int, { exact: true }),
  externalId: Schema.optionalWith(Schema.String, { exact: true })
}) {}

/** An item reference as it arrives: `externalId` or `external_id`, other keys ignored. */
export const ItemReferenceFromWire = Schema.transform(JsonObject, Schema.typeSchema(ItemReference), {
  strict: true,
  decode: (wire) => {
    const id = typeof wire.id === "number" && Number.isSafeInteger(wire.id) ? wire.id : undefined
    const xid = typeof wire.externalId === "string"
      ? wire.externalId
      : typeof wire.external_id === "string"
      ? wire.external_id
      : undefined
    return new ItemReference({
      ...(id === undefined ? {} : { id }),
      ...(xid === undefined ? {} : { externalId: xid })
    })
  },
  encode: (ref) => ({ ...ref })
})

/** The normalized body of an API error. */
export class ErrorBody extends Schema.Class<ErrorBody>("ErrorBody")({
  code: Schema.optionalWith(Schema.Int, { exact: true }),
  message: Schema.String,
  missing: Schema.Array(ItemReference),
  duplicated: Schema.Array(ItemReference)
}) {}

const ErrorObject = Schema.Struct({
  code: optional(Schema.Int),
  message: optional(Schema.String),
  missing: optional(Schema.Array(ItemReferenceFromWire)),
  duplicated: optional(Schema.Array(ItemReferenceFromWire))
})

/** The envelope of every failed API response; decodes both forms into an `ErrorBody`. */
export const ErrorEnvelope = Schema.transform(
  Schema.Struct({ error: Schema.Union(Schema.String, ErrorObject) }),
  Schema.typeSchema(ErrorBody),
  {
    strict: true,
    decode: ({ error }) =>
      typeof error === "string"
        ? new ErrorBody({ message: error, missing: [], duplicated: [] })
        : new ErrorBody({
          ...(error.code === undefined ? {} : { code: error.code }),
          message: error.message ?? "",
          missing: error.missing ?? [],
          duplicated: error.duplicated ?? []
        }),
    encode: (body) => ({
      error: {
        ...(body.code === undefined ? {} : { code: body.code }),
        message: body.message,
        ...(body.missing.length === 0 ? {} : { missing: body.missing }),
        ...(body.duplicated.length === 0 ? {} : { duplicated: body.duplicated })
      }
    })
  }
)
