/**
 * The OpenAPI description of the Functions API, read from the vendored spec/ at test time, and an ajv
 * validator for response bodies. The spec's known quirks (spec/README.md at the repository root) are overridden here,
 * one by one, each with the reason; `quirks` keeps the unpatched facts so a test can prove each quirk
 * is still in the spec (if Cognite fixes one, that test fails and the override can go).
 */
import addFormatsModule from "ajv-formats"
import { Ajv2020 } from "ajv/dist/2020.js"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))

/** Where the spec is: vendored at the repository root (see spec/README.md for its origin). */
export const SPEC_PATH = path.resolve(here, "../../../spec/cognite-functions-openapi.json")

const parse = (text: string): Record<string, unknown> => {
  const value: unknown = JSON.parse(text)
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("spec is not an object")
  return Object.fromEntries(Object.entries(value))
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The object at `keys` (the same object, not a copy, so overrides can patch it in place). */
const obj = (value: unknown, ...keys: Array<string>): Record<string, unknown> => {
  let current: unknown = value
  for (const key of keys) {
    if (!isRecord(current)) throw new Error(`spec: no ${keys.join(".")}`)
    current = current[key]
  }
  if (!isRecord(current)) throw new Error(`spec: no ${keys.join(".")}`)
  return current
}

const requiredOf = (schema: Record<string, unknown>): Array<string> =>
  Array.isArray(schema.required) ? schema.required.filter((x): x is string => typeof x === "string") : []

/** The spec as published (never modified). */
export const original = parse(fs.readFileSync(SPEC_PATH, "utf8"))

/** The facts behind each override, read from the unmodified spec. */
export const quirks = {
  /** `FunctionCallError.required` lists `code`, which is not among its properties. */
  callErrorRequiresCode: requiredOf(obj(original, "components", "schemas", "FunctionCallError")).includes("code") &&
    !("code" in obj(original, "components", "schemas", "FunctionCallError", "properties")),
  /** `FunctionSchedule.required` lists the writeOnly `nonce`, which no response carries. */
  scheduleRequiresNonce: requiredOf(obj(original, "components", "schemas", "FunctionSchedule")).includes("nonce"),
  /** `SessionId` is typed string; the service returns a number (Python SDK integration test). */
  sessionIdIsString: obj(original, "components", "schemas", "SessionId").type === "string",
  /** The schedule list filter spells `FunctionId` / `FunctionExternalId`. */
  scheduleFilterCapitalised: "FunctionId" in
    obj(original, "components", "schemas", "FunctionScheduleFilter", "properties", "filter", "properties"),
  /** Function Apps paths have no operations. */
  functionAppsHaveNoOperations: Object.keys(obj(original, "paths", "/function-apps/{functionExternalId}/calls"))
    .length === 0
}

/** The spec with the documented overrides applied. */
const patched = (): Record<string, unknown> => {
  const spec = parse(JSON.stringify(original))
  const schemas = obj(spec, "components", "schemas")
  // Quirk 1: `code` is required but undefined on FunctionCallError; the SDKs and the docs' examples
  // read only {message, trace}. Override: not required.
  const callError = obj(schemas, "FunctionCallError")
  callError.required = requiredOf(callError).filter((k) => k !== "code")
  // Quirk 2: FunctionSchedule requires the writeOnly `nonce`. A response must never carry it, so for
  // responses it is not required (the tests also assert it is absent).
  const schedule = obj(schemas, "FunctionSchedule")
  schedule.required = requiredOf(schedule).filter((k) => k !== "nonce")
  // Quirk 3: SessionId is a string in the spec and a number from the service (API-FACTS §1.3).
  // Override: an integer id.
  schemas.SessionId = { description: "Id of the session (a number on the wire).", type: "integer", minimum: 1 }
  return spec
}

const spec = patched()

const addFormats = addFormatsModule.default
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true })
addFormats(ajv)
ajv.addSchema({ $id: "cdf", components: spec.components, paths: spec.paths })

// Quirk 5: Function Apps have no operations in the spec. These shapes follow API-FACTS §1.4.
ajv.addSchema({
  $id: "function-apps",
  $defs: {
    CallResult: {
      type: "object",
      required: ["callId", "functionId", "runtimeStatus"],
      properties: {
        callId: { $ref: "cdf#/components/schemas/CogniteInternalId" },
        functionId: { $ref: "cdf#/components/schemas/CogniteInternalId" },
        runtimeStatus: { enum: ["Running", "Completed", "Failed", "Timeout"] },
        response: {},
        error: { $ref: "cdf#/components/schemas/FunctionCallError" }
      },
      additionalProperties: false
    }
  }
})

const pointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1")

/** The ref of a component schema. */
export const schemaRef = (name: string) => `cdf#/components/schemas/${name}`

/** The ref of a component response's JSON schema. */
export const responseRef = (name: string) => `cdf#/components/responses/${name}/content/application~1json/schema`

/** The ref of an operation's response schema, following a `$ref` to a component response. */
export const operationRef = (pathTemplate: string, method: string, status: number) => {
  const response = obj(spec, "paths", pathTemplate, method, "responses", String(status))
  const ref = response.$ref
  if (typeof ref === "string") return responseRef(ref.replace("#/components/responses/", ""))
  return `cdf#/paths/${pointer(pathTemplate)}/${method}/responses/${status}/content/application~1json/schema`
}

/** The ref of the error envelope. */
export const errorRef = responseRef("ErrorResponse")

/** The ref of a Function App call result. */
export const appResultRef = "function-apps#/$defs/CallResult"

/** Validates `data` against the schema at `ref`; returns the errors as text, or undefined when valid. */
export const validate = (ref: string, data: unknown): string | undefined => {
  const valid = ajv.validate({ $ref: ref }, data)
  return valid ? undefined : ajv.errorsText(ajv.errors, { separator: "\n" })
}
