/**
 * What every command shares: running a command against its target (CDF or the embedded emulator) with its
 * errors reported, reading the token safely, and reading references, JSON input and durations.
 *
 * @since 0.1.0
 */
import type { FunctionRef } from "@effect-cdf/functions/FunctionRef"
import { Context, Duration, Effect, Layer, Option, Redacted } from "effect"
import type { ConfigError } from "effect"
import * as fs from "node:fs"
import type { CliError, EnvironmentError, Exit } from "./Output.js"
import { fail, make as makeOutput, Output, UsageError } from "./Output.js"
import * as Target from "./Target.js"

/** The values of the options every target command takes (see `Tree.common`). */
export interface CommonArgs {
  readonly json: boolean
  readonly baseUrl: string | undefined
  readonly project: string | undefined
  readonly token: string | undefined
  readonly tokenFile: string | undefined
  readonly emulator: boolean
  readonly dataDir: string | undefined
}

/** The announcement made on stderr when a command uses the embedded emulator. */
export const embeddedNotice = (info: Target.Target.Info): string =>
  `using the embedded emulator at ${info.baseUrl} (project ${info.project}); set COGNITE_* (or CDF_*) to use CDF${
    Option.match(info.dataDir, { onNone: () => "", onSome: (dir) => ` (state kept in ${dir})` })
  }`

/** The warning printed when the token came on the command line. */
export const TOKEN_FLAG_WARNING =
  "warning: --token puts the token in the process list (ps) and the shell history; prefer COGNITE_TOKEN " +
  "or --token-file FILE (--token-file - reads stdin)"

/** The token from `--token-file` (`-` for stdin) or `--token`, trimmed; a file that cannot be read is a usage error. */
export const readToken = (
  args: Pick<CommonArgs, "token" | "tokenFile">
): Effect.Effect<Option.Option<Redacted.Redacted<string>>, UsageError, Output> =>
  Effect.gen(function*() {
    if (args.tokenFile !== undefined) {
      const file = args.tokenFile
      const text = yield* Effect.try({
        try: () => fs.readFileSync(file === "-" ? 0 : file, "utf8").trim(),
        catch: () => new UsageError({ message: `--token-file: cannot read ${file === "-" ? "stdin" : file}` })
      })
      if (text === "") {
        return yield* new UsageError({ message: `--token-file: ${file === "-" ? "stdin" : file} is empty` })
      }
      return Option.some(Redacted.make(text))
    }
    if (args.token === undefined) return Option.none()
    yield* (yield* Output).note(TOKEN_FLAG_WARNING)
    return Option.some(Redacted.make(args.token))
  })

/**
 * Runs a command: its output mode from `--json`, the SDK's services over its target, and any error printed
 * and turned into the exit code. With `--json`, the document says which target answered.
 */
export const run = <E extends CliError, R>(
  args: CommonArgs,
  program: Effect.Effect<void, E, R>
): Effect.Effect<void, Exit, Exclude<Exclude<R, Target.Services>, Output>> => {
  const output = makeOutput(args.json, true)
  return Effect.gen(function*() {
    if (args.emulator && (args.baseUrl !== undefined || args.project !== undefined || args.token !== undefined)) {
      return yield* new UsageError({ message: "--emulator cannot be combined with --base-url, --project or --token" })
    }
    const token = yield* readToken(args)
    const flags: Target.Flags = { baseUrl: args.baseUrl, project: args.project, token, dataDir: args.dataDir }
    const layer: Layer.Layer<Target.Services, ConfigError.ConfigError | EnvironmentError> =
      !args.emulator && Target.selectsCdf(flags)
        ? Target.cdfLayer(flags)
        : Target.embeddedLayer(
          Option.match(Target.dataDir(flags), { onNone: () => ({}), onSome: (dataDir) => ({ dataDir }) }),
          (info) => output.note(output.style.dim(embeddedNotice(info)))
        )
    return yield* program.pipe(
      Effect.provide(
        Layer.tap(layer, (context) => Effect.sync(() => output.setTarget(Context.get(context, Target.Target))))
      )
    )
  }).pipe(
    Effect.catchAll((error) => fail(error)),
    Effect.provideService(Output, output)
  )
}

/** `run` for a body that prints: it is handed the command's `Output`, so each command need not look it up. */
export const runWith = <E extends CliError, R>(
  args: CommonArgs,
  body: (out: Output["Type"]) => Effect.Effect<void, E, R>
): Effect.Effect<void, Exit, Exclude<Exclude<R, Target.Services>, Output>> => run(args, Effect.flatMap(Output, body))

/** Runs a command that needs no target: only its output mode and error reporting. */
export const runLocal = <E extends CliError, R>(
  json: boolean,
  program: Effect.Effect<void, E, R>
): Effect.Effect<void, Exit, Exclude<R, Output>> =>
  program.pipe(
    Effect.catchAll((error) => fail(error)),
    Effect.provideService(Output, makeOutput(json, false))
  )

/** A function reference from the command line: all digits is an id, anything else an external id. */
export const ref = (text: string): FunctionRef => (/^\d+$/.test(text) ? Number(text) : text)

/** A positive integer id from the command line, or a usage error naming `what`. */
export const id = (what: string, text: string): Effect.Effect<number, UsageError> => {
  const n = Number(text)
  return /^\d+$/.test(text) && Number.isSafeInteger(n) && n > 0
    ? Effect.succeed(n)
    : Effect.fail(new UsageError({ message: `${what} must be a positive integer, got "${text}"` }))
}

/**
 * A JSON object from `--data` / `--body`: inline JSON, or `@file.json` to read a file. Anything but a JSON
 * object is a usage error.
 */
export const jsonObject = (
  flag: string,
  raw: Option.Option<string>
): Effect.Effect<Record<string, unknown> | undefined, UsageError> =>
  Option.match(raw, {
    onNone: () => Effect.succeed(undefined),
    onSome: (text) =>
      Effect.flatMap(jsonValue(flag, text), (value) =>
        typeof value === "object" && value !== null && !Array.isArray(value)
          ? Effect.succeed(Object.fromEntries(Object.entries(value)))
          : Effect.fail(new UsageError({ message: `${flag} must be a JSON object, for example '{"name": "Ada"}'` })))
  })

/** Any JSON value from inline text or `@file`. */
export const jsonValue = (flag: string, text: string): Effect.Effect<unknown, UsageError> =>
  Effect.gen(function*() {
    const source = text.startsWith("@")
      ? yield* Effect.try({
        try: () => fs.readFileSync(text.slice(1), "utf8"),
        catch: () => new UsageError({ message: `${flag}: cannot read the file ${text.slice(1)}` })
      })
      : text
    return yield* Effect.try({
      try: (): unknown => JSON.parse(source),
      catch: (error) =>
        new UsageError({
          message: `${flag} is not valid JSON: ${error instanceof Error ? error.message : "parse error"}`
        })
    })
  })

const UNITS: Record<string, number> = {
  ms: 1,
  millis: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000
}

/** A duration such as `30s`, `2m`, `1.5 minutes`, `500ms` or a number of seconds. */
export const duration = (flag: string, text: string): Effect.Effect<Duration.Duration, UsageError> => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = match === null ? undefined : match[2] === "" ? 1000 : UNITS[match[2].toLowerCase()]
  if (match === null || unit === undefined || Number(match[1]) <= 0) {
    return Effect.fail(
      new UsageError({ message: `${flag} must be a duration such as 30s, 2m or 500ms, got "${text}"` })
    )
  }
  return Effect.succeed(Duration.millis(Number(match[1]) * unit))
}
