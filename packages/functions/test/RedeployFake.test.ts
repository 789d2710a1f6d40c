/** Re-running a deploy against the fake transport: what is sent when the content is unchanged, or changed. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type DeployOptions, Functions } from "../src/Functions.js"
import { BASE_URL, fakeCdf, fn, itemsOf, PROJECT_PATH } from "./support/fakeCdf.js"

const files = { "handler.py": "def handle(data):\n    return data\n" }

/** A project where `existing` is what `POST /functions/byids` finds; creates answer a Ready function 7. */
const project = (existing: ReadonlyArray<unknown>) =>
  fakeCdf((seen) => {
    if (seen.path === "/functions/byids") return { status: 200, body: { items: existing } }
    if (seen.path === "/files" && seen.method === "POST") {
      return {
        status: 201,
        body: {
          id: 5,
          name: "x.zip",
          uploaded: false,
          createdTime: 1,
          lastUpdatedTime: 1,
          uploadUrl: `${BASE_URL}${PROJECT_PATH}/files/upload/5`
        }
      }
    }
    if (seen.path === "/files/upload/5") return { status: 200 }
    if (seen.path === "/files/byids") {
      return {
        status: 200,
        body: { items: [{ id: 5, name: "x.zip", uploaded: true, createdTime: 1, lastUpdatedTime: 1 }] }
      }
    }
    if (seen.path === "/functions" && seen.method === "POST") {
      const item = itemsOf(seen)[0]
      const metadata = typeof item === "object" && item !== null && "metadata" in item ? item.metadata : undefined
      return { status: 201, body: { items: [fn(7, { status: "Ready", externalId: "x", metadata })] } }
    }
    return undefined
  })

/** `Functions.apply` of `x` with `extra` options over `fake`. */
const applyOver = (fake: ReturnType<typeof project>, extra: Partial<DeployOptions> = {}) =>
  Effect.flatMap(Functions, (f) => f.apply({ name: "x", externalId: "x", source: { files }, ...extra })).pipe(
    Effect.provide(fake.layer)
  )

describe("Functions.apply against the fake transport", () => {
  it.effect("the same content again: one lookup, nothing uploaded or created", () =>
    Effect.gen(function*() {
      const created = yield* applyOver(project([]))
      assert.strictEqual(created.outcome, "created")
      const second = project([created.function])
      const again = yield* applyOver(second)
      assert.strictEqual(again.outcome, "unchanged")
      assert.deepStrictEqual(second.requests.map((r) => `${r.method} ${r.path}`), ["POST /functions/byids"])
    }))

  it.effect("other settings (cpu) are a change: a Conflict before anything is uploaded", () =>
    Effect.gen(function*() {
      const created = yield* applyOver(project([]))
      const second = project([created.function])
      const error = yield* Effect.flip(applyOver(second, { cpu: 0.5 }))
      assert.strictEqual(error._tag, "Conflict")
      assert.include(error.message, "--replace")
      assert.deepStrictEqual(second.requests.map((r) => r.path), ["/functions/byids"])
    }))
})
