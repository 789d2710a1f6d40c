/**
 * The rules a handler's return value must meet: JSON, and no larger than the response limit.
 *
 * @since 0.1.0
 */
import { notSerialisableMessage, responseTooLargeMessage } from "./types.js"

/**
 * `JSON.stringify` that refuses what JSON cannot say instead of silently dropping it: functions,
 * symbols and bigints throw. An `undefined` result is `null`, as Python's `None` is.
 */
export const strictStringify = (value: unknown): string => {
  const json = JSON.stringify(value === undefined ? null : value, (key, inner: unknown) => {
    const type = typeof inner
    if (type === "function" || type === "symbol") {
      throw new TypeError(`a ${type} ${key === "" ? "was returned" : `at key ${JSON.stringify(key)}`}`)
    }
    return inner
  })
  return typeof json === "string" ? json : "null"
}

/** The response as plain JSON data, or the message of the rule it breaks. */
export const checkResponse = (
  value: unknown,
  limitBytes: number
): { readonly response: unknown } | { readonly message: string } => {
  let json: string
  try {
    json = strictStringify(value)
  } catch (error) {
    return { message: notSerialisableMessage(error instanceof Error ? error.message : String(error)) }
  }
  const bytes = Buffer.byteLength(json, "utf8")
  if (bytes > limitBytes) return { message: responseTooLargeMessage(bytes, limitBytes) }
  const response: unknown = JSON.parse(json)
  return { response }
}
