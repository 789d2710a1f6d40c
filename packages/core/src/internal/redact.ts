const SECRET_KEY = /nonce|secret|token|password|authorization|api[-_]?key|credential|assertion/i

const redactString = (text: string): string =>
  text
    .replace(/(bearer\s+)[A-Za-z0-9._~+/=-]+/gi, "$1<redacted>")
    .replace(
      /("[^"]*(?:nonce|secret|token|password|authorization|api[-_]?key|credential|assertion)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*"/gi,
      "$1\"<redacted>\""
    )
    .replace(
      /((?:^|[?&\s])[^=&\s]*(?:nonce|secret|token|password|assertion)[^=&\s]*=)[^&\s]*/gi,
      "$1<redacted>"
    )

/** Whether an object key names a secret whose value must never be shown. */
export const isSecretKey = (key: string): boolean => SECRET_KEY.test(key)

const replacer = (key: string, value: unknown): unknown => isSecretKey(key) ? "<redacted>" : value

/**
 * A short, redacted description of a value that arrived from a server or a user: values under keys
 * that name secrets are replaced, bearer tokens are replaced, and the result is cut to `max` characters.
 */
export const redactSample = (value: unknown, max = 240): string => {
  let text: string
  if (typeof value === "string") {
    text = redactString(value)
  } else {
    try {
      text = JSON.stringify(value, replacer) ?? String(value)
    } catch {
      text = Object.prototype.toString.call(value)
    }
    text = redactString(text)
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text
}
