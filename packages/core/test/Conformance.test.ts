/**
 * Every example value in Cognite's OpenAPI description and every JSON sample in the documentation pages
 * the project started from decodes with our schemas. The files are vendored in spec/ at the repository root
 * (spec/README.md says where they come from).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as CogniteFunction from "../src/CogniteFunction.js"
import * as ErrorEnvelope from "../src/ErrorEnvelope.js"
import * as FunctionApp from "../src/FunctionApp.js"
import * as FunctionCall from "../src/FunctionCall.js"
import * as FunctionSchedule from "../src/FunctionSchedule.js"
import * as FunctionsLimits from "../src/FunctionsLimits.js"
import * as Items from "../src/Items.js"
import * as Session from "../src/Session.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const vendored = path.resolve(here, "../../../spec")
const spec = JSON.parse(fs.readFileSync(path.join(vendored, "cognite-functions-openapi.json"), "utf8"))

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

const isObject = (u: unknown): u is Record<string, Json> => typeof u === "object" && u !== null && !Array.isArray(u)

const decodes = (schema: Schema.Schema.AnyNoContext, value: unknown): void => {
  const result = Schema.decodeUnknownEither(schema, { onExcessProperty: "ignore" })(value)
  if (Either.isLeft(result)) {
    throw new Error(`${JSON.stringify(value).slice(0, 300)} did not decode: ${result.left.message}`)
  }
}

/** The example values of one schema's properties, assembled into one object. */
const propertyExamples = (name: string): Record<string, Json> => {
  const schema = spec.components.schemas[name]
  const out: Record<string, Json> = {}
  for (const [key, prop] of Object.entries<Record<string, Json>>(schema.properties ?? {})) {
    if (prop.example !== undefined) out[key] = prop.example
  }
  return out
}

/** Every `example` / `examples` value under a JSON pointer-ish path. */
const examplesAt = (node: unknown): Array<Json> => {
  if (!isObject(node)) return []
  const out: Array<Json> = []
  if (node.example !== undefined) out.push(node.example)
  if (isObject(node.examples)) {
    for (const example of Object.values(node.examples)) {
      if (isObject(example) && example.value !== undefined) out.push(example.value)
    }
  }
  return out
}

const requestExamples = (pathKey: string, method: string): Array<Json> =>
  examplesAt(spec.paths[pathKey][method].requestBody.content["application/json"])

describe("OpenAPI examples", () => {
  it("request examples of every functions endpoint decode", () => {
    const create = requestExamples("/functions", "post")
    expect(create.length).toBe(3)
    for (const body of create) {
      decodes(Items.ItemsRequest(CogniteFunction.FunctionWrite, 1), body)
    }
    const fnList = requestExamples("/functions/list", "post")
    expect(fnList.length).toBe(1)
    fnList.forEach((body) => decodes(CogniteFunction.FunctionListRequest, body))
    const scheduleList = requestExamples("/functions/schedules/list", "post")
    expect(scheduleList.length).toBe(1)
    scheduleList.forEach((body) => decodes(FunctionSchedule.FunctionScheduleListRequest, body))
    const callList = requestExamples("/functions/{functionId}/calls/list", "post")
    expect(callList.length).toBe(1)
    callList.forEach((body) => decodes(FunctionCall.FunctionCallListRequest, body))
  })

  it("response examples decode", () => {
    const logs = examplesAt(spec.components.responses.FunctionCallLog.content["application/json"])
    expect(logs.length).toBe(1)
    logs.forEach((body) => decodes(FunctionCall.FunctionCallLogs, body))
    const response = examplesAt(spec.components.responses.FunctionCallResponse.content["application/json"])
    expect(response.length).toBe(1)
    response.forEach((body) => decodes(FunctionCall.FunctionCallResponse, body))
    const limitsProps = spec.components.responses.FunctionsLimits.content["application/json"].schema.properties
    const limits = {
      timeoutMinutes: limitsProps.timeoutMinutes.example,
      runtimes: limitsProps.runtimes.example,
      responseSizeMb: limitsProps.responseSizeMb.example,
      cpuCores: propertyExamples("CPURange"),
      memoryGb: propertyExamples("MemoryRange")
    }
    decodes(FunctionsLimits.FunctionsLimits, limits)
  })

  it("session examples decode", () => {
    const byIds = examplesAt(spec.paths["/sessions/byids"].post.responses["200"].content["application/json"])
    const revoke = examplesAt(spec.paths["/sessions/revoke"].post.responses["200"].content["application/json"])
    expect(byIds.length + revoke.length).toBe(2)
    decodes(Items.Items(Session.Session), byIds[0])
    // The revoke example uses id 0, below the API's own minimum of 1: it is the one example that must fail.
    expect(Either.isLeft(Schema.decodeUnknownEither(Items.Items(Session.Session))(revoke[0]))).toBe(true)
  })

  it("resources assembled from the examples of their properties decode", () => {
    const id = spec.components.schemas.EpochTimestamp.example
    const fn = {
      ...propertyExamples("Function"),
      id: 4503599627370496,
      fileId: 4503599627370496,
      name: spec.components.schemas.FunctionName.example,
      status: spec.components.schemas.FunctionStatus.example,
      owner: spec.components.schemas.FunctionOwner.example,
      externalId: spec.components.schemas.CogniteExternalId.example,
      error: propertyExamples("FunctionBuildError"),
      lastCalled: id
    }
    decodes(CogniteFunction.CogniteFunction, fn)
    decodes(FunctionCall.FunctionCall, {
      id: 1,
      functionId: 2,
      startTime: id,
      status: spec.components.schemas.FunctionCallStatus.example,
      error: propertyExamples("FunctionCallError")
    })
    decodes(FunctionCall.FunctionCallLogEntry, propertyExamples("FunctionCallLogEntry"))
    decodes(FunctionSchedule.FunctionSchedule, {
      id: 1,
      createdTime: id,
      name: spec.components.schemas.FunctionScheduleName.example,
      cronExpression: spec.components.schemas.FunctionScheduleCronExpression.example,
      description: spec.components.schemas.FunctionScheduleDescription.example,
      when: spec.components.schemas.FunctionScheduleWhen.example,
      functionId: 2,
      sessionId: "123"
    })
    decodes(FunctionSchedule.CronExpression, spec.components.schemas.FunctionScheduleCronExpression.example)
    decodes(CogniteFunction.FunctionInput, spec.components.schemas.data.example)
    decodes(ErrorEnvelope.ErrorEnvelope, { error: propertyExamples("Error") })
  })
})

/** Balanced `{...}` blocks of a text that parse as JSON once the docs' bullet marks are removed. */
const jsonBlocks = (text: string): Array<unknown> => {
  const cleaned = text.replace(/•\s*/g, "")
  const out: Array<unknown> = []
  let i = 0
  while (i < cleaned.length) {
    if (cleaned[i] !== "{") {
      i++
      continue
    }
    let depth = 0
    let inString = false
    let j = i
    for (; j < cleaned.length; j++) {
      const c = cleaned[j]
      if (inString) {
        if (c === "\\") j++
        else if (c === "\"") inString = false
      } else if (c === "\"") inString = true
      else if (c === "{") depth++
      else if (c === "}" && --depth === 0) break
    }
    try {
      out.push(JSON.parse(cleaned.slice(i, j + 1)))
      i = j + 1
    } catch {
      i++
    }
  }
  return out
}

describe("documentation samples in spec/seeds", () => {
  const seeds = fs.readdirSync(path.join(vendored, "seeds")).sort()
  const samples = seeds.flatMap((file) =>
    jsonBlocks(fs.readFileSync(path.join(vendored, "seeds", file), "utf8")).map((value) => ({ file, value }))
  )

  it("every JSON sample is classified and decodes", () => {
    const counts: Record<string, number> = {}
    const count = (key: string) => (counts[key] = (counts[key] ?? 0) + 1)
    for (const { file, value } of samples) {
      if (!isObject(value)) continue
      const text = JSON.stringify(value)
      if (text.includes("<string>")) {
        // request templates with placeholders, not example values
        count("template")
      } else if ("runtimeStatus" in value) {
        decodes(FunctionApp.FunctionAppCallResult, value)
        const envelope = Schema.decodeUnknownSync(FunctionApp.AppEnvelope)(value.response)
        expect(envelope._tag).toBe("AppSuccess")
        count("appResult")
      } else if ("nonce" in value && isObject(value.data) && "path" in value.data) {
        decodes(FunctionApp.FunctionAppCallRequest, value)
        count("appRequest")
      } else if ("status" in value && "startTime" in value) {
        decodes(FunctionCall.FunctionCall, value)
        count(typeof value.error === "string" ? "callStringError" : "callObjectError")
      } else if (isObject(value) && Object.values(value).every((v) => typeof v === "number")) {
        decodes(CogniteFunction.FunctionInput, value)
        count("input")
      } else if (file.startsWith("004")) {
        // the Python SDK page shows a handler returning a JSON object: what a call's response carries
        decodes(FunctionCall.FunctionCallResponse, { callId: 1, functionId: 1, response: value })
        count("handlerReturn")
      } else {
        throw new Error(`unclassified sample in ${file}: ${text.slice(0, 200)}`)
      }
    }
    // both shapes of a call's error appear in the docs, and both decode; nothing was left unclassified
    expect(counts).toEqual({
      callStringError: 1,
      callObjectError: 2,
      input: 1,
      template: 2,
      appResult: 2,
      appRequest: 1,
      handlerReturn: 1
    })
  })

  it("the string error and the object error decode into one shape", () => {
    const calls = samples.map(({ value }) => value).filter((v): v is Record<string, Json> =>
      isObject(v) && "startTime" in v
    )
    const decoded = calls.map((c) => Schema.decodeUnknownSync(FunctionCall.FunctionCall)(c))
    const stringForm = decoded.find((c) => c.error?.trace === undefined)
    const objectForm = decoded.find((c) => c.error?.trace !== undefined)
    expect(stringForm?.error).toBeInstanceOf(FunctionCall.CallError)
    expect(stringForm?.error?.message).toBe("ZeroDivisionError: division by zero")
    expect(objectForm?.error).toBeInstanceOf(FunctionCall.CallError)
    expect(objectForm?.error?.trace).toBe("Cannot assign foo to bar.")
  })
})
