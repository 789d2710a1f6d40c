/** Option records as schemas decode them: a key given as `undefined` is left out, as if it were absent. */

/** The entries of `record` whose value is not `undefined`, for `decodeInput` (which takes unknown input). */
export const definedOnly = (record: object): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value
  return out
}
