/**
 * Cognite Functions: the deployed resource, its create shape with every limit of the API, and the list filter.
 *
 * @since 0.1.0
 */
import { Redacted, Schema } from "effect"
import { EpochMillis, ExternalId, FileId, FunctionId } from "./Ids.js"
import { JsonObject, openLiteral, optional, optionalExact, utf8Length } from "./internal/schema.js"

/** Where a function is in its life: `Queued -> Deploying -> Ready | Failed`; later values stay open. */
export const FunctionStatus = openLiteral(["Queued", "Deploying", "Ready", "Failed"], "UnknownFunctionStatus")
/** Where a function is in its life. */
export type FunctionStatus = typeof FunctionStatus.Type

/** The Python runtimes the API accepts. */
export const FunctionRuntime = Schema.Literal("py310", "py311", "py312", "py313", "py314")
/** The Python runtimes the API accepts. */
export type FunctionRuntime = typeof FunctionRuntime.Type

/** Why a deployment failed: a message and the tail of the build log. */
export class FunctionBuildError extends Schema.Class<FunctionBuildError>("FunctionBuildError")({
  message: Schema.String,
  trace: optional(Schema.String)
}) {}

const StringMap = Schema.Record({ key: Schema.String, value: Schema.String })

/** A function as the API returns it. Optional fields are absent until set (`lastCalled` until the first call). */
export class CogniteFunction extends Schema.Class<CogniteFunction>("CogniteFunction")({
  id: FunctionId,
  createdTime: EpochMillis,
  status: FunctionStatus,
  name: Schema.String,
  fileId: FileId,
  externalId: optional(ExternalId),
  owner: optional(Schema.String),
  description: optional(Schema.String),
  metadata: optional(StringMap),
  /** Secret names with scrambled values (`"***"`): the API never returns them. */
  secrets: optional(StringMap),
  functionPath: optional(Schema.String),
  envVars: optional(StringMap),
  cpu: optional(Schema.Number.pipe(Schema.finite())),
  memory: optional(Schema.Number.pipe(Schema.finite())),
  runtime: optional(Schema.String),
  runtimeVersion: optional(Schema.String),
  error: optional(FunctionBuildError),
  lastCalled: optional(EpochMillis),
  functionType: optional(Schema.String)
}) {}

// ---------------------------------------------------------------------------------------------------------
// create
// ---------------------------------------------------------------------------------------------------------

/** The secret names the API reserves. */
export const RESERVED_SECRET_NAMES: ReadonlyArray<string> = ["token", "indexurl", "extraindexurls"]

const MAX_SECRET_BYTES = 25 * 1024

const SECRET_NAME = /^[a-z0-9-]{1,15}$/

/** Why a secret name is not accepted, or `undefined`. */
const secretNameProblem = (name: string): string | undefined =>
  !SECRET_NAME.test(name)
    ? `secret name "${name.slice(0, 20)}" is not 1..15 lowercase letters, digits or dashes`
    : RESERVED_SECRET_NAMES.includes(name)
    ? `"${name}" is a reserved secret name`
    : undefined

/**
 * Function secrets: at most 30, names of 1..15 lowercase letters, digits or dashes (not reserved), each
 * value kept `Redacted` until it is written to the wire. A bad name fails: it is never dropped silently.
 */
export const FunctionSecrets = Schema.Record({ key: Schema.String, value: Schema.Redacted(Schema.String) }).pipe(
  Schema.filter((secrets) => {
    const entries = Object.entries(secrets)
    if (entries.length > 30) return `a function has at most 30 secrets, got ${entries.length}`
    for (const [name, value] of entries) {
      const problem = secretNameProblem(name)
      if (problem !== undefined) return problem
      if (utf8Length(name) > MAX_SECRET_BYTES || utf8Length(Redacted.value(value)) > MAX_SECRET_BYTES) {
        return `secret "${name}": name and value are at most 25 kB each`
      }
    }
    return true
  }, {
    arbitrary: () => (fc) =>
      fc.dictionary(fc.stringMatching(SECRET_NAME), fc.string({ maxLength: 40 }).map(Redacted.make), {
        maxKeys: 30
      }).map((secrets) => {
        const { token: _token, ...rest } = secrets
        return rest
      })
  })
)

/** Environment variables: at most 100, names of letters, digits and underscores. */
export const FunctionEnvVars = Schema.Record({ key: Schema.String, value: Schema.String }).pipe(
  Schema.filter((vars) => {
    const names = Object.keys(vars)
    if (names.length > 100) return `a function has at most 100 env vars, got ${names.length}`
    const bad = names.find((name) => !/^[A-Za-z0-9_]+$/.test(name))
    return bad === undefined || `env var name "${bad.slice(0, 40)}" is not letters, digits and underscores`
  }, {
    arbitrary: () => (fc) =>
      fc.dictionary(fc.stringMatching(/^[A-Za-z0-9_]{1,20}$/), fc.string({ maxLength: 40 }), { maxKeys: 100 })
  })
)

/** Metadata: at most 16 pairs, keys of at most 32 bytes, values of at most 512 bytes, 4096 bytes in all. */
export const Metadata = Schema.Record({ key: Schema.String, value: Schema.String }).pipe(
  Schema.filter((metadata) => {
    const entries = Object.entries(metadata)
    if (entries.length > 16) return `metadata has at most 16 pairs, got ${entries.length}`
    let total = 0
    for (const [key, value] of entries) {
      const k = utf8Length(key)
      const v = utf8Length(value)
      if (k > 32) return `metadata key "${key.slice(0, 40)}" is over 32 bytes`
      if (v > 512) return `metadata value of "${key}" is over 512 bytes`
      total += k + v
    }
    return total <= 4096 || `metadata is ${total} bytes, at most 4096`
  }, {
    arbitrary: () => (fc) =>
      fc.dictionary(fc.string({ minLength: 1, maxLength: 32 }), fc.string({ maxLength: 200 }), { maxKeys: 16 })
        .filter((m) => Object.entries(m).every(([k, v]) => utf8Length(k) <= 32 && utf8Length(v) <= 512))
  })
)

/** The path of the handler inside the zip: a relative POSIX path ending in `.py`, at most 500 characters. */
export const FunctionPath = Schema.String.pipe(
  Schema.minLength(4),
  Schema.maxLength(500, { message: () => "functionPath is at most 500 characters" }),
  Schema.filter((path) => {
    if (path.includes("\\")) return "functionPath is a POSIX path: use / not \\"
    if (path.startsWith("/")) return "functionPath is relative to the root of the zip"
    if (path.split("/").some((part) => part === ".." || part === "")) return "functionPath has an empty or .. segment"
    return path.endsWith(".py") || "functionPath names a Python file ending in .py"
  }, {
    arbitrary: () => (fc) =>
      fc.array(fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/), { minLength: 0, maxLength: 4 }).chain((dirs) =>
        fc.stringMatching(/^[A-Za-z0-9_]{1,20}$/).map((file) => [...dirs, `${file}.py`].join("/"))
      )
  })
)

/** A function's name: 1..140 characters. */
export const FunctionName = Schema.String.pipe(
  Schema.minLength(1, { message: () => "a name is at least 1 character" }),
  Schema.maxLength(140, { message: () => "a name is at most 140 characters" })
)

/** A description: at most 500 characters. */
export const Description = Schema.String.pipe(
  Schema.maxLength(500, { message: () => "a description is at most 500 characters" })
)

/** What `POST /functions` takes: one function, from a zip already in the Files API. */
export class FunctionWrite extends Schema.Class<FunctionWrite>("FunctionWrite")({
  name: FunctionName,
  fileId: FileId,
  externalId: optionalExact(ExternalId),
  description: optionalExact(Description),
  owner: optionalExact(Schema.String.pipe(Schema.maxLength(128, { message: () => "owner is at most 128 characters" }))),
  functionPath: optionalExact(FunctionPath),
  secrets: optionalExact(FunctionSecrets),
  envVars: optionalExact(FunctionEnvVars),
  cpu: optionalExact(Schema.Number.pipe(Schema.positive(), Schema.finite())),
  memory: optionalExact(Schema.Number.pipe(Schema.positive(), Schema.finite())),
  runtime: optionalExact(FunctionRuntime),
  metadata: optionalExact(Metadata),
  indexUrl: optionalExact(Schema.String),
  extraIndexUrls: optionalExact(Schema.Array(Schema.String))
}) {}

/** An inclusive range of epoch milliseconds. */
export const TimeRange = Schema.Struct({
  min: optionalExact(EpochMillis),
  max: optionalExact(EpochMillis)
})

/** The filter of `POST /functions/list`. */
export class FunctionFilter extends Schema.Class<FunctionFilter>("FunctionFilter")({
  name: optionalExact(Schema.String),
  owner: optionalExact(Schema.String),
  fileId: optionalExact(FileId),
  status: optionalExact(FunctionStatus),
  externalIdPrefix: optionalExact(Schema.String),
  createdTime: optionalExact(TimeRange),
  metadata: optionalExact(Schema.Record({ key: Schema.String, value: Schema.String }))
}) {}

/** The body of `POST /functions/list`. Function lists are not paginated. */
export const FunctionListRequest = Schema.Struct({
  filter: optionalExact(FunctionFilter),
  limit: optionalExact(Schema.Int.pipe(Schema.positive()))
})

/** A JSON object passed as a call's `data` or a schedule's input. */
export const FunctionInput = JsonObject
