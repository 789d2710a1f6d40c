/**
 * `cdf-fn functions ...`: list, get, deploy, delete, limits, status, activate.
 *
 * @since 0.1.0
 */
import type { CogniteFunction } from "@effect-cdf/core"
import * as Functions from "@effect-cdf/functions/Functions"
import { Effect, Option, Ref } from "effect"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import * as Common from "../Command.js"
import { Output, seconds, timestamp, UsageError } from "../Output.js"
import { handler } from "../Spec.js"
import { Target } from "../Target.js"
import * as Tree from "../Tree.js"

/** One function as `key: value` lines. */
export const describeFunction = (fn: CogniteFunction.CogniteFunction): Array<[string, string]> => [
  ["id", String(fn.id)],
  ["external id", fn.externalId ?? ""],
  ["name", fn.name],
  ["status", fn.status],
  ["runtime", fn.runtime ?? ""],
  ["function path", fn.functionPath ?? ""],
  ["file id", String(fn.fileId)],
  ["created", timestamp(fn.createdTime)],
  ...(fn.lastCalled === undefined ? [] : [["last called", timestamp(fn.lastCalled)] as [string, string]]),
  ...(fn.description === undefined ? [] : [["description", fn.description] as [string, string]]),
  ...(fn.error === undefined ? [] : [["error", fn.error.message] as [string, string]])
]

/** Prints `key: value` pairs aligned. */
export const printPairs = (pairs: ReadonlyArray<readonly [string, string]>) =>
  Effect.gen(function*() {
    const out = yield* Output
    const width = Math.max(...pairs.map(([key]) => key.length))
    for (const [key, value] of pairs) yield* out.line(`${out.style.bold(`${key}:`.padEnd(width + 1))} ${value}`)
  })

/** `functions list`. */
export const list = handler(Tree.functionsList, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const functions = yield* (yield* Functions.Functions).list()
      yield* out.result(
        functions,
        out.table(
          ["ID", "EXTERNAL ID", "NAME", "STATUS", "RUNTIME", "CREATED"],
          functions.map((fn) => [
            String(fn.id),
            fn.externalId ?? "",
            fn.name,
            fn.status,
            fn.runtime ?? "",
            timestamp(fn.createdTime)
          ])
        )
      )
    })
  ))

/** `functions get`. */
export const get = handler(Tree.functionsGet, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const fn = yield* (yield* Functions.Functions).retrieve(Common.ref(args.ref))
      yield* out.result(fn, printPairs(describeFunction(fn)))
    })
  ))

/** Narrates a deployment on stderr: the stages as they happen (`Queued -> Deploying -> Ready`). */
export const deployProgress =
  (statuses: Ref.Ref<ReadonlyArray<string>>, narrate: boolean) =>
  (event: Functions.DeployProgress): Effect.Effect<void, never, Output> =>
    Effect.gen(function*() {
      const out = yield* Output
      if (event.stage === "status") {
        yield* Ref.update(statuses, (seen) => (seen[seen.length - 1] === event.status ? seen : [...seen, event.status]))
      }
      if (!narrate) return
      switch (event.stage) {
        case "zipped":
          return yield* out.note(out.style.dim(`  zipped ${event.files} file(s), ${event.bytes} bytes`))
        case "uploaded":
          return yield* out.note(out.style.dim(`  uploaded the zip as file ${event.fileId}`))
        case "created":
          return yield* out.note(out.style.dim(`  created function ${event.functionId}`))
        case "status":
          return yield* out.note(out.style.dim(`  ${event.status} (function ${event.functionId})`))
        case "unchanged":
          return yield* out.note(
            out.style.dim(`  function ${event.functionId} was deployed from this content and settings: nothing to do`)
          )
        case "replacing":
          return yield* out.note(
            out.style.dim(
              `  replacing function ${event.functionId}: the new version is built first under a temporary external id`
            )
          )
      }
    })

/** `functions deploy`. */
export const deploy = handler(Tree.functionsDeploy, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const folder = nodePath.resolve(args.folder)
      if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
        return yield* new UsageError({ message: `${args.folder} is not a folder` })
      }
      const name = args.name ?? nodePath.basename(folder)
      const externalId = args.externalId ?? name
      const statuses = yield* Ref.make<ReadonlyArray<string>>([])
      const started = Date.now()
      if (!out.json) yield* out.note(`deploying ${args.folder} as ${name} (external id ${externalId})`)
      const deployed = yield* (yield* Functions.Functions).apply({
        name,
        externalId,
        source: { folder },
        functionPath: args.functionPath,
        runtime: args.runtime,
        description: args.description,
        onExists: args.replace ? "replace" : "fail",
        onProgress: (event) => Effect.provideService(deployProgress(statuses, !out.json)(event), Output, out)
      })
      const fn = deployed.function
      yield* out.result(
        { outcome: deployed.outcome, function: fn, hash: deployed.hash, schedules: deployed.schedules },
        Effect.gen(function*() {
          const seen = yield* Ref.get(statuses)
          const how = seen.length === 0 ? "" : `: ${seen.join(" -> ")}`
          const schedules = deployed.schedules.length === 0
            ? ""
            : `; ${deployed.schedules.length} schedule(s) recreated`
          yield* out.line(
            `${out.style.green(deployed.outcome)} ${fn.name} (function ${fn.id})${how} in ${
              seconds(Date.now() - started)
            }${schedules}`
          )
          yield* out.line(`call it with: cdf-fn call ${externalId} --data '{}'`)
        })
      )
      yield* embeddedStateNote
    })
  ))

/** Tells the user that what they just created ends with this command when the embedded emulator keeps no state. */
export const embeddedStateNote = Effect.gen(function*() {
  const target = yield* Target
  const out = yield* Output
  if (target.kind === "embedded" && Option.isNone(target.dataDir)) {
    yield* out.note(out.style.yellow(
      "note: the embedded emulator's state ends with this command; keep it with --data-dir DIR, or run " +
        "`cdf-fn emulator start` and set the COGNITE_* variables it prints"
    ))
  }
})

/** `functions delete`. */
export const delete_ = handler(Tree.functionsDelete, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      yield* (yield* Functions.Functions).delete(args.refs.map(Common.ref))
      yield* out.result(
        { deleted: args.refs },
        out.line(`deleted ${args.refs.join(", ")} (their zip files stay in the Files API)`)
      )
    })
  ))

/** `functions limits`. */
export const limits = handler(Tree.functionsLimits, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const l = yield* (yield* Functions.Functions).limits
      yield* out.result(
        l,
        printPairs([
          ["call timeout", `${l.timeoutMinutes} min`],
          ["cpu cores", `${l.cpuCores.min}..${l.cpuCores.max} (default ${l.cpuCores.default})`],
          ["memory GB", `${l.memoryGb.min}..${l.memoryGb.max} (default ${l.memoryGb.default})`],
          ["runtimes", l.runtimes.join(", ")],
          ["response size", `${l.responseSizeMb} MB`]
        ])
      )
    })
  ))

/** `functions status`. */
export const status = handler(Tree.functionsStatus, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const s = yield* (yield* Functions.Functions).status
      yield* out.result(s, out.line(`Functions is ${s.status}`))
    })
  ))

/** `functions activate`. */
export const activate = handler(Tree.functionsActivate, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const s = yield* (yield* Functions.Functions).activate
      yield* out.result(s, out.line(`Functions is ${s.status}`))
    })
  ))
