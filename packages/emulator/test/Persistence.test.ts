/**
 * Persistence: with a data directory, functions (with their code), calls, logs, responses and schedules
 * survive a restart; calls running at shutdown come back Failed with a clear message.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Emulator, Persistence } from "../src/index.js"
import { callAndWait, deploy, field, nonce, num, request, until } from "./support.js"

const handler = `export async function handle({ data }) {
  console.log("got " + JSON.stringify(data))
  if (data.sleep) await new Promise((r) => setTimeout(r, data.sleep))
  return { twice: (data.n ?? 0) * 2 }
}`

describe("persistence", () => {
  it.scopedLive("state survives a restart with the same data directory", () =>
    Effect.gen(function*() {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-persist-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dataDir, { recursive: true, force: true })))
      const options = { project: "persist", dataDir }

      const first = yield* Effect.scoped(
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          const fn = yield* deploy(emulator, { "handler.js": handler }, { functionPath: "handler.js", externalId: "p" })
          const id = num(fn, "id")
          const done = yield* callAndWait(emulator, id, { n: 21 })
          const schedule = yield* request(emulator, "POST", "/functions/schedules", {
            body: {
              items: [{
                name: "s",
                cronExpression: "0 0 1 1 *",
                functionId: id,
                data: { k: "v" },
                nonce: yield* nonce(emulator)
              }]
            }
          })
          expect(schedule.status).toBe(201)
          const long = yield* request(emulator, "POST", `/functions/${id}/call`, {
            body: { data: { sleep: 30_000 }, nonce: yield* nonce(emulator) }
          })
          expect(long.status).toBe(201)
          return {
            token: Redacted.value(emulator.token),
            id,
            doneId: num(done, "id"),
            longId: num(long.body, "id"),
            scheduleId: num(schedule.body, "items", 0, "id")
          }
        }).pipe(Effect.provide(Emulator.layer(options)))
      )
      // The journal holds the dev token and the secrets: only its owner may read it.
      const journal = fs.statSync(path.join(dataDir, Persistence.JOURNAL_FILE))
      expect(journal.mode & 0o777).toBe(0o600)

      yield* Effect.scoped(
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          // The dev token is kept, so clients configured with it keep working.
          expect(Redacted.value(emulator.token)).toBe(first.token)
          const fn = yield* until(
            "the restored function to be Ready",
            Effect.map(
              request(emulator, "GET", `/functions/${first.id}`),
              (r) => field(r.body, "status") === "Ready" ? r.body : undefined
            )
          )
          expect(field(fn, "externalId")).toBe("p")
          expect(typeof field(fn, "lastCalled")).toBe("number")

          const response = yield* request(emulator, "GET", `/functions/${first.id}/calls/${first.doneId}/response`)
          expect(field(response.body, "response")).toEqual({ twice: 42 })
          const logs = yield* request(emulator, "GET", `/functions/${first.id}/calls/${first.doneId}/logs`)
          expect(field(logs.body, "items", 0, "message")).toBe(`got {"n":21}`)

          const interrupted = yield* request(emulator, "GET", `/functions/${first.id}/calls/${first.longId}`)
          expect(field(interrupted.body, "status")).toBe("Failed")
          expect(field(interrupted.body, "error", "message")).toBe(Persistence.INTERRUPTED_MESSAGE)

          const input = yield* request(emulator, "GET", `/functions/schedules/${first.scheduleId}/input_data`)
          expect(input.body).toEqual({ id: first.scheduleId, data: { k: "v" } })

          // The restored code runs again.
          const again = yield* callAndWait(emulator, first.id, { n: 2 })
          expect(field(again, "status")).toBe("Completed")
        }).pipe(Effect.provide(Emulator.layer(options)))
      )
    }), 60_000)
})
