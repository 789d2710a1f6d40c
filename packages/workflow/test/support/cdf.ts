/** The emulator in this process, the CDF services against it over loopback, and the durable handler. */
import { Emulator } from "@effect-cdf/emulator"
import { Calls, CogniteFunctions, Functions } from "@effect-cdf/functions"
import { Auth } from "@effect-cdf/http"
import { NodeHttpClient } from "@effect/platform-node"
import { Chunk, Effect, Layer, Redacted, Stream } from "effect"

/** Sleeps `data.sleep` ms, then answers which run it belongs to. */
export const handler = `
exports.handle = async ({ data }) => {
  if (data.sleep) await new Promise((resolve) => setTimeout(resolve, data.sleep))
  return { run: data.run }
}
`

/** The emulator with the CDF services over a real socket. */
export const layer = (options: Emulator.EmulatorOptions = {}) =>
  Layer.unwrapEffect(
    Effect.map(Emulator.Emulator, (emulator) =>
      CogniteFunctions.layer({ baseUrl: emulator.baseUrl, project: emulator.project }).pipe(
        Layer.provide(Auth.layerToken(emulator.token)),
        Layer.provide(NodeHttpClient.layerUndici)
      ))
  ).pipe(Layer.provideMerge(Emulator.layer(options)))

/** Deploys the durable handler under an external id; returns its id. */
export const deploy = (externalId: string) =>
  Effect.flatMap(
    Functions.Functions,
    (functions) => functions.deploy({ name: externalId, externalId, source: { files: { "handler.js": handler } } })
  ).pipe(
    Effect.map((fn) => fn.id)
  )

/** The environment a runner child needs to reach the emulator. */
export const childEnv = Effect.map(Emulator.Emulator, (emulator) => ({
  EMULATOR_URL: emulator.baseUrl,
  EMULATOR_PROJECT: emulator.project,
  EMULATOR_TOKEN: Redacted.value(emulator.token)
}))

/** Every call of a function with the run its handler answered (`undefined` while it runs). */
export const callsByRun = (functionId: number) =>
  Effect.gen(function*() {
    const calls = yield* Calls.Calls
    const listed = Chunk.toReadonlyArray(yield* Stream.runCollect(calls.list(functionId)))
    return yield* Effect.forEach(listed, (call) =>
      calls.response(functionId, call.id).pipe(
        Effect.map((response) => ({
          callId: call.id,
          status: call.status,
          run: response._tag === "Some" ? (response.value as { run?: string }).run : undefined
        })),
        Effect.orElseSucceed(() => ({ callId: call.id, status: call.status, run: undefined }))
      ))
  })

/** Waits (real time) until `check` gives a value. */
export const until = <A>(what: string, check: Effect.Effect<A | undefined>, timeoutMillis = 30_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMillis
    for (;;) {
      const value = yield* check
      if (value !== undefined) return value
      if (Date.now() > deadline) return yield* Effect.dieMessage(`timed out waiting for ${what}`)
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 3)))
    }
  })

/** A seeded PRNG (mulberry32): the kill delays of a run are the same on every machine. */
export const prng = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
