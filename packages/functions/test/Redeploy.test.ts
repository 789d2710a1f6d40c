/**
 * Deploys that can be re-run, against the emulator: the same content is `unchanged` (nothing deployed),
 * other content is a `Conflict` naming `onExists: "replace"`, a replacement recreates the schedules on
 * the new function, and a replacement that fails to build leaves the old function in place.
 */
import { Functions, Schedules } from "@effect-cdf/functions"
import { expect, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { emulated } from "./support/emulated.js"

const Live = emulated()

const v1 = { "handler.js": "exports.handle = () => ({ v: 1 })" }
const v2 = { "handler.js": "exports.handle = () => ({ v: 2 })" }
const broken = { "handler.py": "def handle(:\n" }

layer(Live, { timeout: 60_000, excludeTestServices: true })("re-running a deploy", (it) => {
  it.effect("created, then unchanged, then a Conflict that names onExists, then replaced with its schedules", () =>
    Effect.gen(function*() {
      const functions = yield* Functions.Functions
      const schedules = yield* Schedules.Schedules
      const options = { name: "redeploy", externalId: "redeploy-1", source: { files: v1 }, secrets: { key: "s-1111" } }

      const first = yield* functions.apply(options)
      expect(first.outcome).toBe("created")
      expect(first.function.metadata?.["effect-cdf-hash"]).toBe(first.hash)

      const again = yield* functions.apply(options)
      expect(again.outcome).toBe("unchanged")
      expect(again.function.id).toBe(first.function.id)
      // `deploy` is as idempotent: the same folder twice is no error
      expect((yield* functions.deploy(options)).id).toBe(first.function.id)

      const changed = yield* Effect.flip(functions.apply({ ...options, source: { files: v2 } }))
      expect(changed._tag).toBe("Conflict")
      expect(changed.message).toContain(`onExists: "replace"`)
      // a rotated secret is a change too
      const rotated = yield* Effect.flip(functions.apply({ ...options, secrets: { key: "s-2222" } }))
      expect(rotated._tag).toBe("Conflict")

      const schedule = yield* schedules.create({
        name: "nightly",
        cronExpression: "0 3 * * *",
        function: first.function.id,
        data: { mode: "full" }
      })
      const replaced = yield* functions.apply({ ...options, source: { files: v2 }, onExists: "replace" })
      expect(replaced.outcome).toBe("replaced")
      expect(replaced.function.id).not.toBe(first.function.id)
      expect(replaced.function.externalId).toBe("redeploy-1")
      expect(replaced.function.status).toBe("Ready")
      expect(yield* functions.retrieveOption(first.function.id)).toEqual(Option.none())
      const moved = yield* schedules.list({ filter: { function: replaced.function.id } })
      expect(moved.map((s) => [s.name, s.cronExpression])).toEqual([["nightly", "0 3 * * *"]])
      expect(moved[0].id).not.toBe(schedule.id)
      expect(yield* schedules.inputData(moved[0].id)).toEqual(Option.some({ mode: "full" }))
      expect(yield* schedules.list({ filter: { function: first.function.id } })).toEqual([])
      // only the function itself: no trial function is left behind
      const all = yield* functions.list()
      expect(all.filter((f) => f.externalId?.startsWith("redeploy-1")).map((f) => f.id)).toEqual([replaced.function.id])
    }))

  it.effect("a replacement that fails to build leaves the old function in place, Ready and unchanged", () =>
    Effect.gen(function*() {
      const functions = yield* Functions.Functions
      const options = { name: "keep", externalId: "keep-1", source: { files: v1 } }
      const first = yield* functions.apply(options)
      const error = yield* Effect.flip(functions.apply({ ...options, source: { files: broken }, onExists: "replace" }))
      expect(error._tag).toBe("DeployFailed")
      expect(error.message).toContain("left in place")
      const still = yield* functions.retrieve(first.function.id)
      expect(still.status).toBe("Ready")
      expect(still.metadata?.["effect-cdf-hash"]).toBe(first.hash)
      const all = yield* functions.list()
      expect(all.filter((f) => f.externalId?.startsWith("keep-1")).map((f) => f.id)).toEqual([first.function.id])
      expect((yield* functions.apply(options)).outcome).toBe("unchanged")
    }))
})
