/**
 * js-hello: the python-hello example in JavaScript, for the effect-cdf emulator (CDF itself runs only
 * Python). It logs a few lines, returns a greeting, and throws a clear error for bad input.
 */
export function handle({ data, functionCallInfo }) {
  console.log(`call ${functionCallInfo.call_id} of function ${functionCallInfo.function_id}`)
  const name = data !== null && typeof data === "object" ? data.name : undefined
  console.log(`received name=${JSON.stringify(name)}`)
  if (typeof name !== "string" || name.trim() === "") {
    throw new Error("name must be a non-empty string")
  }
  const greeting = `Hello, ${name.trim()}!`
  console.log(`returning ${JSON.stringify(greeting)}`)
  return { greeting, length: greeting.length }
}
