/**
 * The command line of the emulator: `node dist/bin.js --port 0 --data-dir DIR --project NAME`.
 *
 * @since 0.1.0
 */
import { Console, Effect, Either, Layer, Redacted } from "effect"
import * as Emulator from "./Emulator.js"

/** The usage text. */
export const usage = `Usage: effect-cdf-emulator [options]

  --port N             port to listen on (default 0: a free port)
  --host ADDR          address to bind (default 127.0.0.1)
  --project NAME       project name (default playground)
  --data-dir DIR       persist state in DIR and restore it on start
  --token TOKEN        the dev token (default: random, or the one saved in --data-dir)
  --client-id ID       client id for POST /oauth2/token (default emulator-client)
  --client-secret S    client secret for POST /oauth2/token (default emulator-secret)
  --timeout-minutes N  call timeout in minutes (default 9)
  --seed N             seed of the fault injection PRNG (rules via POST /__emulator/faults)
  --help               show this text
`

/** Parses the arguments into emulator options, or says what is wrong. */
export const parseArgs = (
  argv: ReadonlyArray<string>
): Either.Either<Emulator.EmulatorOptions | "help", string> => {
  const values = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ""
    if (arg === "--help" || arg === "-h") return Either.right("help")
    const eq = arg.indexOf("=")
    const [name, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined]
    const known = [
      "--port",
      "--host",
      "--project",
      "--data-dir",
      "--token",
      "--client-id",
      "--client-secret",
      "--timeout-minutes",
      "--seed"
    ]
    if (!known.includes(name)) return Either.left(`unknown option ${arg}`)
    const value = inline ?? argv[++i]
    if (value === undefined) return Either.left(`${name} needs a value`)
    values.set(name, value)
  }
  const int = (name: string, min: number): Either.Either<number | undefined, string> => {
    const raw = values.get(name)
    if (raw === undefined) return Either.right(undefined)
    const n = Number(raw)
    return Number.isInteger(n) && n >= min ? Either.right(n) : Either.left(`${name} must be an integer >= ${min}`)
  }
  return Either.gen(function*() {
    const port = yield* int("--port", 0)
    const timeoutMinutes = yield* int("--timeout-minutes", 1)
    const seed = yield* int("--seed", 0)
    const options: Emulator.EmulatorOptions = {
      port,
      host: values.get("--host"),
      project: values.get("--project"),
      dataDir: values.get("--data-dir"),
      token: values.get("--token"),
      clientId: values.get("--client-id"),
      clientSecret: values.get("--client-secret"),
      ...(timeoutMinutes === undefined ? {} : { limits: { timeoutMinutes } }),
      ...(seed === undefined ? {} : { faults: { seed, rules: [] } })
    }
    return options
  })
}

/** Starts the emulator, prints where it is, and runs until interrupted (SIGINT/SIGTERM via `runMain`). */
export const run = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const parsed = parseArgs(argv)
    if (Either.isLeft(parsed)) {
      yield* Console.error(`${parsed.left}\n\n${usage}`)
      return yield* Effect.fail(new Error(parsed.left))
    }
    if (parsed.right === "help") return yield* Console.log(usage)
    const options = parsed.right
    yield* Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* Console.log(`Cognite Functions emulator listening
  base URL: ${emulator.baseUrl}
  project:  ${emulator.project}
  token:    ${Redacted.value(emulator.token)}
  client:   ${emulator.clientId} (POST ${emulator.baseUrl}/oauth2/token)${
        options.dataDir === undefined ? "" : `\n  data dir: ${options.dataDir}`
      }
Press Ctrl+C to stop.`)
      return yield* Effect.never
    }).pipe(
      Effect.provide(Layer.fresh(Emulator.layer(options))),
      Effect.ensuring(Console.log("emulator stopped"))
    )
  })
