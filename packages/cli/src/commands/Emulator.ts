/**
 * `cdf-fn emulator start`: run the local emulator until Ctrl-C, printing where it is and the variables
 * that point `cdf-fn` (or any SDK) at it.
 *
 * @since 0.1.0
 */
import type { Emulator } from "@effect-cdf/emulator"
import { Command, Options } from "@effect/cli"
import { Effect, Layer, Option, Redacted } from "effect"
import * as Common from "../Common.js"
import { EnvironmentError, Output } from "../Output.js"
import { loadEmulator } from "../Target.js"

/** The variables that point a client at a running emulator. */
export const environment = (emulator: Emulator.Emulator.Service): Record<string, string> => ({
  COGNITE_BASE_URL: emulator.baseUrl,
  COGNITE_PROJECT: emulator.project,
  COGNITE_TOKEN: Redacted.value(emulator.token)
})

const start = Command.make("start", {
  json: Common.options.json,
  port: Options.integer("port").pipe(
    Options.withDescription("The port (default 0: a free one)"),
    Options.withDefault(0)
  ),
  host: Options.text("host").pipe(Options.withDescription("The address to bind"), Options.withDefault("127.0.0.1")),
  project: Options.text("project").pipe(Options.withDescription("The project name"), Options.withDefault("playground")),
  dataDir: Common.options.dataDir
}, (args) =>
  Common.runLocal(
    args.json,
    Effect.flatMap(loadEmulator, ({ Emulator }) => serve(Emulator, args))
  )).pipe(Command.withDescription("Run the local emulator until Ctrl+C"))

const serve = (
  EmulatorModule: typeof Emulator,
  args: {
    readonly json: boolean
    readonly port: number
    readonly host: string
    readonly project: string
    readonly dataDir: Option.Option<string>
  }
) =>
  Effect.gen(function*() {
    const out = yield* Output
    const emulator = yield* EmulatorModule.Emulator
    const env = environment(emulator)
    if (out.json) {
      // one line, so a script can read it while the emulator keeps running
      yield* out.line(JSON.stringify({
        baseUrl: emulator.baseUrl,
        project: emulator.project,
        token: env.COGNITE_TOKEN,
        dataDir: Option.getOrNull(args.dataDir),
        env
      }))
    } else {
      yield* out.line(`${out.style.bold("Cognite Functions emulator")} listening at ${emulator.baseUrl}`)
      yield* out.line(`  project:  ${emulator.project}`)
      yield* out.line(`  token:    ${env.COGNITE_TOKEN}  (the dev token: always valid on this emulator)`)
      yield* out.line(
        `  state:    ${
          Option.match(args.dataDir, {
            onNone: () => "in memory (lost on exit; keep it with --data-dir)",
            onSome: (d) => d
          })
        }`
      )
      yield* out.line("")
      yield* out.line("Point cdf-fn (or any SDK) at it from another terminal:")
      for (const [name, value] of Object.entries(env)) yield* out.line(`  export ${name}=${value}`)
      yield* out.line("")
      yield* out.line("Press Ctrl+C to stop.")
    }
    return yield* Effect.never
  }).pipe(
    Effect.provide(
      Layer.mapError(
        EmulatorModule.layer({
          port: args.port,
          host: args.host,
          project: args.project,
          ...(Option.isSome(args.dataDir) ? { dataDir: args.dataDir.value } : {})
        }),
        (error) =>
          new EnvironmentError({
            message: `the emulator could not start: ${
              error._tag === "PersistenceError" ? error.message : String(error.cause)
            }`
          })
      )
    )
  )

/** `cdf-fn emulator`. */
export const command = Command.make("emulator").pipe(
  Command.withDescription("The local Cognite Functions emulator"),
  Command.withSubcommands([start])
)
