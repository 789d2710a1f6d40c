/** What both conformance suites share: a handler that echoes its input, and the spec assertions. */
import { assert, expect } from "@effect/vitest"
import { errorRef, validate } from "./spec.js"
import { num, type Reply } from "./support.js"

/** A JavaScript handler that logs its data and echoes it with a secret and its call id. */
export const echoHandler = `
export function handle({ data, secrets, functionCallInfo }) {
  console.log("hello " + JSON.stringify(data))
  return { echo: data, secret: secrets["my-secret"] ?? null, callId: functionCallInfo.call_id }
}
`

/** Asserts the status and that the body matches the schema at `ref`. */
export const conforms = (reply: Reply, status: number, ref: string) => {
  expect(reply.status, reply.text).toBe(status)
  const problems = validate(ref, reply.body)
  assert.isUndefined(problems, `${ref}: ${problems}\n${reply.text}`)
  assert.isString(reply.headers.get("x-request-id"))
}

/** Asserts an error envelope with this status. */
export const fails = (reply: Reply, status: number) => {
  conforms(reply, status, errorRef)
  expect(num(reply.body, "error", "code")).toBe(status)
}
