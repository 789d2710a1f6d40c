/**
 * `cdf-fn schedules ...`: list, create, delete schedules and read a schedule's input data.
 *
 * @since 0.1.0
 */
import type { FunctionSchedule } from "@effect-cdf/core"
import { Schedules } from "@effect-cdf/functions/Schedules"
import { Effect, Option } from "effect"
import * as Common from "../Command.js"
import { optionalId, pretty, timestamp } from "../Output.js"
import { handler } from "../Spec.js"
import * as Tree from "../Tree.js"
import { embeddedStateNote, printPairs } from "./Functions.js"

const describeSchedule = (schedule: FunctionSchedule.FunctionSchedule): Array<readonly [string, string]> => [
  ["id", String(schedule.id)],
  ["name", schedule.name],
  ["cron", schedule.cronExpression],
  ["when", schedule.when ?? ""],
  ["function id", schedule.functionId === undefined ? "" : String(schedule.functionId)],
  ["created", timestamp(schedule.createdTime)]
]

/** `schedules list`. */
export const list = handler(Tree.schedulesList, (args) =>
  Common.runWith(args, (out) =>
    Effect.gen(function*() {
      const schedules = yield* (yield* Schedules).list()
      yield* out.list(schedules, [
        ["ID", (s) => String(s.id)],
        ["NAME", (s) => s.name],
        ["CRON", (s) => s.cronExpression],
        ["WHEN", (s) => s.when ?? ""],
        ["FUNCTION ID", (s) => optionalId(s.functionId)]
      ])
    })))

/** `schedules create`. */
export const create = handler(Tree.schedulesCreate, (args) =>
  Common.runWith(args, (out) =>
    Effect.gen(function*() {
      const data = yield* Common.jsonObject("--data", Option.fromNullable(args.data))
      const schedule = yield* (yield* Schedules).create({
        name: args.name,
        cronExpression: args.cron,
        function: Common.ref(args.function),
        data,
        description: args.description
      })
      yield* out.result(schedule, printPairs(describeSchedule(schedule)))
      yield* embeddedStateNote
    })))

/** `schedules delete`. */
export const delete_ = handler(Tree.schedulesDelete, (args) =>
  Common.runWith(args, (out) =>
    Effect.gen(function*() {
      const ids = yield* Effect.forEach(args.ids, (text) => Common.id("schedule id", text))
      yield* (yield* Schedules).delete(ids)
      yield* out.result({ deleted: ids }, out.line(`deleted schedule(s) ${ids.join(", ")}`))
    })))

/** `schedules input`. */
export const input = handler(Tree.schedulesInput, (args) =>
  Common.runWith(args, (out) =>
    Effect.gen(function*() {
      const id = yield* Common.id("schedule id", args.id)
      const data = yield* (yield* Schedules).inputData(id)
      if (Option.isNone(data) && !out.json) return yield* out.note("(the schedule has no input data)")
      yield* out.line(pretty(Option.getOrNull(data)))
    })))
