import { Redacted } from "effect"

const SECRET_KEY = /nonce|secret|token|password|authorization|api[-_]?key|credential|assertion/i

/** How deep a value from a server or a user is looked into: deeper parts are shown as `…`. */
export const MAX_DEPTH = 64

/** Secrets shorter than this are not searched for: cutting them out of text would mangle words. */
export const MIN_SECRET_LENGTH = 4

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

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Secrets at least this long are cut wherever they occur, even inside a longer word. */
export const WHOLE_WORD_BELOW = 12

/**
 * `text` with each known secret (long enough to be one) replaced by `<redacted>`. A short secret (fewer
 * than `WHOLE_WORD_BELOW` characters) is cut only where it stands as a whole value, not inside a longer
 * word: a four-letter token must not turn "connect" into "conn<redacted>"-like noise.
 */
export const cutSecrets = (text: string, secrets: ReadonlyArray<string>): string =>
  secrets.reduce(
    (acc, secret) => {
      if (secret.length < MIN_SECRET_LENGTH || !acc.includes(secret)) return acc
      if (secret.length >= WHOLE_WORD_BELOW) return acc.split(secret).join("<redacted>")
      return acc.replace(new RegExp(`(?<![A-Za-z0-9_])${escapeRegExp(secret)}(?![A-Za-z0-9_])`, "g"), "<redacted>")
    },
    text
  )

/** Text from a server or a user, safe to show: known secrets and secret-looking parts cut out. */
export const scrubText = (text: string, secrets: ReadonlyArray<string> = []): string =>
  redactString(cutSecrets(text, secrets))

/** Whether a value nests deeper than `max` (checked without recursion, so any depth is safe). */
export const nestsDeeperThan = (value: unknown, max = MAX_DEPTH): boolean => {
  const stack: Array<readonly [unknown, number]> = [[value, 0]]
  let visited = 0
  while (stack.length > 0) {
    const next = stack.pop()
    if (next === undefined) break
    const [u, depth] = next
    if (typeof u !== "object" || u === null) continue
    if (depth >= max) return true
    // a value too wide to look through whole is judged on what was seen
    if (++visited > 100_000) return false
    for (const item of Array.isArray(u) ? u : Object.values(u)) stack.push([item, depth + 1])
  }
  return false
}

/** A copy cut at `MAX_DEPTH` levels and 50 items per level, with values under secret keys replaced. */
const bounded = (value: unknown, depth: number): unknown => {
  if (typeof value !== "object" || value === null) return value
  if (depth >= MAX_DEPTH) return "…"
  if (Array.isArray(value)) {
    const items = value.slice(0, 50).map((item) => bounded(item, depth + 1))
    return value.length > 50 ? [...items, `… (${value.length} items)`] : items
  }
  const out: Record<string, unknown> = {}
  let n = 0
  for (const [key, item] of Object.entries(value)) {
    if (n++ >= 50) {
      out["…"] = "(more keys)"
      break
    }
    out[key] = isSecretKey(key) ? "<redacted>" : bounded(item, depth + 1)
  }
  return out
}

/**
 * A short, redacted description of a value that arrived from a server or a user: values under keys
 * that name secrets are replaced, bearer tokens and the given secrets are cut out, the value is looked
 * into only `MAX_DEPTH` levels deep, and the result is cut to `max` characters.
 */
export const redactSample = (value: unknown, max = 240, secrets: ReadonlyArray<string> = []): string => {
  let text: string
  if (typeof value === "string") {
    text = value
  } else {
    try {
      text = JSON.stringify(bounded(value, 0)) ?? String(value)
    } catch {
      text = Object.prototype.toString.call(value)
    }
  }
  text = scrubText(text, secrets)
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text
}

/**
 * A request id as a server sent it, if it looks like one (letters, digits and `-_.:/+=`, at most 128
 * characters) and carries no known secret; anything else is not an id and is dropped.
 */
export const plausibleRequestId = (raw: string | undefined, secrets: ReadonlyArray<string> = []): string | undefined =>
  raw !== undefined && /^[A-Za-z0-9._:/+=-]{1,128}$/.test(raw) && cutSecrets(raw, secrets) === raw ? raw : undefined

/**
 * The secret values a value carries, to cut out of any message about it: `Redacted` values, and strings
 * under secret-named keys (a nonce in a body, a secret given as a plain string), at most 20 levels deep.
 */
export const secretsIn = (value: unknown): Array<string> => {
  const out: Array<string> = []
  const visit = (u: unknown, secret: boolean, depth: number): void => {
    if (depth > 20) return
    if (Redacted.isRedacted(u)) {
      const inner: unknown = Redacted.value(u)
      if (typeof inner === "string" && inner.length >= MIN_SECRET_LENGTH) out.push(inner)
    } else if (typeof u === "string") {
      if (secret && u.length >= MIN_SECRET_LENGTH) out.push(u)
    } else if (Array.isArray(u)) {
      for (const item of u) visit(item, secret, depth + 1)
    } else if (typeof u === "object" && u !== null) {
      for (const [key, item] of Object.entries(u)) visit(item, secret || isSecretKey(key), depth + 1)
    }
  }
  visit(value, false, 0)
  return out
}
