import { Schema } from "effect"

/** An optional field that the server may also send as `null`; `null` decodes as absent. */
export const optional = <S extends Schema.Schema.Any>(schema: S) =>
  Schema.optionalWith(schema, { exact: true, nullable: true })

/** An optional field that must be absent or a value (for the request shapes we write). */
export const optionalExact = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

/**
 * A string literal union that stays open: known values decode to themselves, and a value the API adds
 * later decodes as a branded unknown string instead of failing, so a client built today keeps working.
 */
export const openLiteral = <const Known extends readonly [string, ...Array<string>], const B extends string>(
  known: Known,
  brand: B
) => Schema.Union(Schema.Literal(...known), Schema.String.pipe(Schema.brand(brand)))

/** A JSON object with string keys. */
export const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const encoder = new TextEncoder()

/** UTF-8 byte length of a string. */
export const utf8Length = (s: string): number => encoder.encode(s).length
