/**
 * `cdf-fn demo`: the SDK end to end in a few seconds, narrated. It starts the embedded emulator, deploys
 * `examples/python-hello` (or `examples/js-hello` without Python 3), calls it, prints the response and the
 * logs, then calls it with bad input and shows the typed error the SDK raises.
 *
 * @since 0.1.0
 */
import { Calls } from "@effect-cdf/functions/Calls"
import { Functions } from "@effect-cdf/functions/Functions"
import { Effect, Either, Option, Ref } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import * as Common from "../Command.js"
import { examplePath } from "../Examples.js"
import { compact, failureLines, Output, pretty, report, seconds, UsageError } from "../Output.js"
import { handler } from "../Spec.js"
import { embeddedLayer, loadEmulator } from "../Target.js"
import * as Tree from "../Tree.js"
import { outcomeJson, waitFor } from "./Call.js"
import { deployProgress } from "./Functions.js"

/** Whether `python3` runs on this machine. */
export const hasPython = (): boolean => {
  const result = spawnSync("python3", ["--version"], { stdio: "ignore" })
  return result.error === undefined && result.status === 0
}

/** The input of the demo's good call. */
export const GOOD_INPUT = { name: "Effect" }
/** The input of the demo's failing call. */
export const BAD_INPUT = { name: "" }

const indentLines = (text: string, by = "   ") => text.split("\n").map((line) => by + line)

/** `cdf-fn demo`. */
export const demo = handler(Tree.demo, (args) =>
  Common.runLocal(
    args.json,
    Effect.gen(function*() {
      const out = yield* Output
      // the narration is the output; with --json it is replaced by one document
      const say = (text = "") => (out.json ? Effect.void : out.line(text))
      const python = hasPython()
      const folder = args.example === undefined
        ? examplePath(python ? "python-hello" : "js-hello")
        : nodePath.resolve(args.example)
      if (!fs.existsSync(folder)) return yield* new UsageError({ message: `no example folder at ${folder}` })
      const name = nodePath.basename(folder)
      if (args.example === undefined && !python) {
        yield* say(out.style.yellow("Python 3 was not found on this machine: using examples/js-hello instead."))
      }

      const startedAt = Date.now()
      const summary = yield* Effect.gen(function*() {
        const { Emulator } = yield* loadEmulator
        const emulator = yield* Emulator.Emulator
        yield* say(
          `${out.style.bold("1.")} Started the local emulator at ${emulator.baseUrl} (project ${emulator.project}) in ${
            seconds(Date.now() - startedAt)
          }.`
        )
        yield* say("   It serves the Cognite Functions REST API on 127.0.0.1 and runs handlers for real.")

        // 2. deploy
        const statuses = yield* Ref.make<ReadonlyArray<string>>([])
        const deployStart = Date.now()
        const fn = yield* (yield* Functions).deploy({
          name,
          externalId: name,
          source: { folder },
          onProgress: (event) => Effect.provideService(deployProgress(statuses, false)(event), Output, out)
        })
        const seen = yield* Ref.get(statuses)
        yield* say(
          `${out.style.bold("2.")} Deployed ${name} (function ${fn.id}): ${seen.join(" -> ")} in ${
            seconds(Date.now() - deployStart)
          }.`
        )
        yield* say(
          "   Functions.deploy zipped the folder, uploaded it to the Files API, created the function and polled it until Ready."
        )

        // 3. a good call
        const calls = yield* Calls
        const callStart = Date.now()
        const started = yield* calls.start(fn.id, GOOD_INPUT)
        const outcome = yield* waitFor(started.handle, Option.none())
        const callMillis = Date.now() - callStart
        const logs = yield* calls.logs(fn.id, started.handle.callId)
        yield* say(
          `${out.style.bold("3.")} Called it with ${
            compact(GOOD_INPUT)
          }: ${outcome.completed.call.status} after ${outcome.polls} poll${outcome.polls === 1 ? "" : "s"} in ${
            seconds(callMillis)
          } (call ${started.handle.callId}).`
        )
        yield* say("   Response:")
        for (const line of indentLines(pretty(outcome.completed.response ?? null), "     ")) yield* say(line)
        yield* say("   Logs:")
        for (const entry of logs) yield* say(`     ${out.style.dim("|")} ${entry.message ?? ""}`)

        // 4. a failing call
        const bad = yield* calls.start(fn.id, BAD_INPUT)
        const badOutcome = yield* Effect.either(waitFor(bad.handle, Option.none()))
        if (Either.isRight(badOutcome)) {
          return yield* new UsageError({ message: `${name} did not fail on bad input: it is not a demo example` })
        }
        const failure = badOutcome.left
        if (failure._tag !== "CallFailed") return yield* failure
        yield* say(
          `${out.style.bold("4.")} Called it with bad input ${compact(BAD_INPUT)}: the call failed; the SDK raised ${
            out.style.red("CallFailed")
          }:`
        )
        for (const line of failureLines(failure, out.style)) yield* say(`   ${line}`)
        yield* say(
          "   A program gets it as a typed error: Effect.catchTag(\"CallFailed\", (e) => ...) with e.reason and e.trace."
        )
        yield* say("")
        yield* say(`${out.style.green("Done.")} Next:`)
        yield* say(
          "   cdf-fn emulator start                     # keep an emulator running, then export the variables it prints"
        )
        yield* say(`   cdf-fn functions deploy ${nodePath.relative(process.cwd(), folder) || "."} --name ${name}`)
        yield* say(`   cdf-fn call ${name} --data '{"name": "you"}'`)
        yield* say(
          "   Set COGNITE_BASE_URL (or COGNITE_CLUSTER), COGNITE_PROJECT and COGNITE_TOKEN to do the same on CDF."
        )
        return {
          emulator: { baseUrl: emulator.baseUrl, project: emulator.project },
          function: { id: fn.id, externalId: name, folder, statuses: seen },
          call: { input: GOOD_INPUT, ...outcomeJson(outcome), logs: logs.map((entry) => entry.message ?? "") },
          failure: { input: BAD_INPUT, error: report(failure, out.style).json }
        }
      }).pipe(Effect.provide(embeddedLayer({}, () => Effect.void)))
      if (out.json) yield* out.document(summary)
    })
  ))
