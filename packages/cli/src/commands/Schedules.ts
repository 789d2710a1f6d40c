/**
 * `cdf-fn schedules ...`: list, create, delete schedules and read a schedule's input data.
 *
 * @since 0.1.0
 */
import type { FunctionSchedule } from "@effect-cdf/core"
import { Schedules } from "@effect-cdf/functions/Schedules"
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import * as Common from "../Common.js"
import { Output, pretty, timestamp } from "../Output.js"
import { embeddedStateNote, printPairs } from "./Functions.js"

const describeSchedule = (schedule: FunctionSchedule.FunctionSchedule): Array<readonly [string, string]> => [
  ["id", String(schedule.id)],
  ["name", schedule.name],
  ["cron", schedule.cronExpression],
  ["when", schedule.when ?? ""],
  ["function id", schedule.functionId === undefined ? "" : String(schedule.functionId)],
  ["created", timestamp(schedule.createdTime)]
]

const list = Command.make("list", { ...Common.options }, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const schedules = yield* (yield* Schedules).list()
      yield* out.result(
        schedules,
        out.table(
          ["ID", "NAME", "CRON", "WHEN", "FUNCTION ID"],
          schedules.map((s) => [
            String(s.id),
            s.name,
            s.cronExpression,
            s.when ?? "",
            s.functionId === undefined ? "" : String(s.functionId)
          ])
        )
      )
    })
  )).pipe(Command.withDescription("List the project's schedules"))

const create = Command.make("create", {
  ...Common.options,
  name: Options.text("name").pipe(Options.withDescription("The schedule's name")),
  cron: Options.text("cron").pipe(Options.withDescription("A 5-field cron expression in UTC, e.g. '*/5 * * * *'")),
  fn: Options.text("function").pipe(Options.withDescription("The function: an id (all digits) or an external id")),
  data: Options.text("data").pipe(
    Options.withDescription("The data every scheduled call gets: a JSON object, or @file.json"),
    Options.optional
  ),
  description: Options.text("description").pipe(Options.optional)
}, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const data = yield* Common.jsonObject("--data", args.data)
      const schedule = yield* (yield* Schedules).create({
        name: args.name,
        cronExpression: args.cron,
        function: Common.ref(args.fn),
        data,
        description: Option.getOrUndefined(args.description)
      })
      yield* out.result(schedule, printPairs(describeSchedule(schedule)))
      yield* embeddedStateNote
    })
  )).pipe(Command.withDescription("Run a function on a cron schedule"))

const delete_ = Command.make("delete", {
  ...Common.options,
  ids: Args.text({ name: "schedule-id" }).pipe(Args.atLeast(1))
}, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const ids = yield* Effect.forEach(args.ids, (text) => Common.id("schedule id", text))
      yield* (yield* Schedules).delete(ids)
      yield* out.result({ deleted: ids }, out.line(`deleted schedule(s) ${ids.join(", ")}`))
    })
  )).pipe(Command.withDescription("Delete schedules"))

const input = Command.make("input", { ...Common.options, id: Args.text({ name: "schedule-id" }) }, (args) =>
  Common.run(
    args,
    Effect.gen(function*() {
      const out = yield* Output
      const id = yield* Common.id("schedule id", args.id)
      const data = yield* (yield* Schedules).inputData(id)
      if (Option.isNone(data) && !out.json) return yield* out.note("(the schedule has no input data)")
      yield* out.line(pretty(Option.getOrNull(data)))
    })
  )).pipe(Command.withDescription("Print the data a schedule passes to each call"))

/** `cdf-fn schedules`. */
export const command = Command.make("schedules").pipe(
  Command.withDescription("Run functions on a cron: list, create, delete, input data"),
  Command.withSubcommands([list, create, delete_, input])
)
