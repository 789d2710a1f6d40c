/**
 * The emulator's one command line, defined once: the `effect-cdf-emulator` bin and `cdf-fn emulator
 * start` both use these flags and this run. The module is light on purpose (`@effect/cli` and `effect`
 * only): the emulator itself is imported when the command runs, not when a command tree is built.
 *
 * @since 0.1.0
 */
import { Command, Options } from "@effect/cli"
import { Config, Console, Data, Effect, Layer, Option, Redacted } from "effect"
import type * as EmulatorModule from "./Emulator.js"

/** The environment variable the dev token may come from (it stays out of `ps`, unlike `--token`). */
export const TOKEN_VARIABLE = "EFFECT_CDF_EMULATOR_TOKEN"

/** Each flag as the help shows it, with its description (also the `@effect/cli` description). */
export const flags = {
  port: ["--port N", "Port to listen on; 0 (the default) picks a free one"],
  host: ["--host ADDR", "Address to bind (default 127.0.0.1)"],
  project: ["--project NAME", "Project name (default playground)"],
  dataDir: ["--data-dir DIR", "Keep state in DIR across restarts (a journal, mode 0600)"],
  token: [
    "--token TOKEN",
    `Dev token (default: random, or the one saved in DIR); \$${TOKEN_VARIABLE} keeps it out of ps`
  ],
  clientId: ["--client-id ID", "Client id of POST /oauth2/token (default emulator-client)"],
  clientSecret: ["--client-secret S", "Client secret of POST /oauth2/token (default emulator-secret)"],
  timeoutMinutes: ["--timeout-minutes N", "Call timeout in minutes (default 9)"],
  seed: ["--seed N", "Seed of the fault injection PRNG (rules: POST /__emulator/faults)"],
  json: ["--json", "Print one JSON line (base URL, project, token, exports)"]
} as const

const described = <A>(key: keyof typeof flags) => (option: Options.Options<A>) =>
  Options.withDescription(option, flags[key][1])

/** The flags of the emulator's command. */
export const options = {
  port: Options.integer("port").pipe(described("port"), Options.withDefault(0)),
  host: Options.text("host").pipe(described("host"), Options.withDefault("127.0.0.1")),
  project: Options.text("project").pipe(described("project"), Options.withDefault("playground")),
  dataDir: Options.text("data-dir").pipe(described("dataDir"), Options.optional),
  token: Options.text("token").pipe(
    described("token"),
    Options.withFallbackConfig(Config.string(TOKEN_VARIABLE)),
    Options.optional
  ),
  clientId: Options.text("client-id").pipe(described("clientId"), Options.optional),
  clientSecret: Options.text("client-secret").pipe(described("clientSecret"), Options.optional),
  timeoutMinutes: Options.integer("timeout-minutes").pipe(described("timeoutMinutes"), Options.optional),
  seed: Options.integer("seed").pipe(described("seed"), Options.optional),
  json: Options.boolean("json").pipe(described("json"))
}

/** Wraps `text` to `width` columns, every line after the first indented by `indent`. */
const wrap = (text: string, width: number, indent: number): string => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width - indent) {
      lines.push(line)
      line = word
    } else line = line === "" ? word : `${line} ${word}`
  }
  lines.push(line)
  return lines.join(`\n${" ".repeat(indent)}`)
}

/** The help of the command, readable at 80 columns, for `usage` (how the command is invoked). */
export const helpText = (usage: string): string => {
  const column = 22
  const rows = Object.values(flags).map(([flag, text]) => `  ${flag.padEnd(column - 2)}${wrap(text, 80, column)}`)
  return [
    `Usage: ${usage} [flags]`,
    "",
    "Run the local Cognite Functions emulator until Ctrl+C, and print the",
    "COGNITE_* variables that point cdf-fn (or any SDK) at it.",
    "",
    "Flags:",
    ...rows,
    `  ${"-h, --help".padEnd(column - 2)}Show this help`
  ].join("\n")
}

/** The parsed flags. */
export interface Args {
  readonly port: number
  readonly host: string
  readonly project: string
  readonly dataDir: Option.Option<string>
  readonly token: Option.Option<string>
  readonly clientId: Option.Option<string>
  readonly clientSecret: Option.Option<string>
  readonly timeoutMinutes: Option.Option<number>
  readonly seed: Option.Option<number>
  readonly json: boolean
}

/** A flag that is not valid (the parser checks types; these are the ranges). */
export class InvalidFlag extends Data.TaggedError("InvalidFlag")<{ readonly message: string }> {}

/** The emulator options the flags stand for. */
export const toEmulatorOptions = (args: Args): EmulatorModule.EmulatorOptions => {
  const get = <A>(option: Option.Option<A>) => Option.getOrUndefined(option)
  return {
    port: args.port,
    host: args.host,
    project: args.project,
    dataDir: get(args.dataDir),
    token: get(args.token),
    clientId: get(args.clientId),
    clientSecret: get(args.clientSecret),
    ...Option.match(args.timeoutMinutes, {
      onNone: () => ({}),
      onSome: (timeoutMinutes) => ({ limits: { timeoutMinutes } })
    }),
    ...Option.match(args.seed, { onNone: () => ({}), onSome: (seed) => ({ faults: { seed, rules: [] } }) })
  }
}

/** The variables that point a client (`cdf-fn`, any SDK) at a running emulator. */
export const environment = (emulator: EmulatorModule.Emulator.Service): Record<string, string> => ({
  COGNITE_BASE_URL: emulator.baseUrl,
  COGNITE_PROJECT: emulator.project,
  COGNITE_TOKEN: Redacted.value(emulator.token)
})

/** What the command prints once the emulator listens: text with the exports, or one JSON line. */
export const banner = (emulator: EmulatorModule.Emulator.Service, args: Args): string => {
  const env = environment(emulator)
  const dataDir = Option.getOrNull(args.dataDir)
  if (args.json) {
    return JSON.stringify({
      baseUrl: emulator.baseUrl,
      project: emulator.project,
      token: env.COGNITE_TOKEN,
      dataDir,
      env
    })
  }
  return [
    `Cognite Functions emulator listening at ${emulator.baseUrl}`,
    `  project:  ${emulator.project}`,
    `  token:    ${env.COGNITE_TOKEN}`,
    `  client:   ${emulator.clientId} (POST ${emulator.baseUrl}/oauth2/token)`,
    `  state:    ${dataDir ?? "in memory (lost on exit; keep it with --data-dir)"}`,
    "",
    "Point cdf-fn (or any SDK) at it from another terminal:",
    ...Object.entries(env).map(([name, value]) => `  export ${name}=${value}`),
    "",
    "Press Ctrl+C to stop."
  ].join("\n")
}

/** Checks the ranges the parser does not. */
export const validate = (args: Args): Effect.Effect<Args, InvalidFlag> => {
  if (args.port < 0 || args.port > 65535) {
    return Effect.fail(new InvalidFlag({ message: "--port must be from 0 to 65535" }))
  }
  if (Option.isSome(args.timeoutMinutes) && args.timeoutMinutes.value < 1) {
    return Effect.fail(new InvalidFlag({ message: "--timeout-minutes must be at least 1" }))
  }
  return Effect.succeed(args)
}

/**
 * Starts the emulator, prints the banner and runs until interrupted (Ctrl+C); the emulator is imported
 * here, lazily. Fails with the flag's problem or the emulator's start error.
 */
export const serve = (args: Args) =>
  Effect.gen(function*() {
    yield* validate(args)
    if (process.argv.some((arg) => arg === "--token" || arg.startsWith("--token="))) {
      yield* Console.error(`warning: --token is visible to other users in ps; prefer ${TOKEN_VARIABLE}`)
    }
    const Emulator = yield* Effect.promise(() => import("./Emulator.js"))
    return yield* Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* Console.log(banner(emulator, args))
      return yield* Effect.never.pipe(
        Effect.ensuring(args.json ? Effect.void : Console.log("emulator stopped"))
      )
    }).pipe(Effect.provide(Layer.fresh(Emulator.layer(toEmulatorOptions(args)))))
  })

/** Why the command failed, as one line for stderr. */
export const describeFailure = (
  error: InvalidFlag | EmulatorModule.StartError
): string =>
  error._tag === "InvalidFlag" || error._tag === "PersistenceError"
    ? error.message
    : `could not listen: ${String(error.cause)}`

/** The command, named as its caller runs it (`effect-cdf-emulator`, or `start` under `cdf-fn emulator`). */
export const make = (name: string) =>
  Command.make(name, options, serve).pipe(
    Command.withDescription("Run the local Cognite Functions emulator until Ctrl+C")
  )
