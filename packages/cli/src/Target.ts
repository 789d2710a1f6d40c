/**
 * Where commands send their requests. Any CDF variable (`COGNITE_*` or the Cognite toolkit's `CDF_*`,
 * `IDP_*`, `LOGIN_FLOW`, `PROVIDER`), or `--base-url`, `--project`, `--token`, selects CDF (or any server
 * speaking its API, such as a running `cdf-fn emulator start`), and a partial configuration is then an
 * error naming what is missing. Only with none of them set is an emulator started in-process for the
 * length of the command.
 *
 * @since 0.1.0
 */
import type * as EmulatorPackage from "@effect-cdf/emulator"
import type { Emulator } from "@effect-cdf/emulator"
import * as CogniteFunctions from "@effect-cdf/functions/CogniteFunctions"
import * as Auth from "@effect-cdf/http/Auth"
import { CdfClient } from "@effect-cdf/http/CdfClient"
import { TARGET_ENV_VARIABLES } from "@effect-cdf/http/CdfConfig"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type { ConfigError } from "effect"
import { ConfigProvider, Context, Effect, Layer, Option, Redacted } from "effect"
import { EnvironmentError } from "./Output.js"

/** The settings a command was given on its command line. */
export interface Flags {
  readonly baseUrl: string | undefined
  readonly project: string | undefined
  readonly token: Option.Option<Redacted.Redacted<string>>
  readonly dataDir: string | undefined
}

/** Where the requests of this command go. */
export class Target extends Context.Tag("@effect-cdf/cli/Target")<Target, Target.Info>() {}

/** The types of the `Target` service. */
export declare namespace Target {
  /** Which server and project. */
  export interface Info {
    /** `cdf` for the `COGNITE_*` settings, `embedded` for the emulator started by this command. */
    readonly kind: "cdf" | "embedded"
    readonly baseUrl: string
    readonly project: string
    /** The data directory of the embedded emulator, when state is kept. */
    readonly dataDir: Option.Option<string>
  }
}

/** The variables that select CDF: when any is set, the embedded emulator is not used. */
export const SELECTING_VARIABLES: ReadonlyArray<string> = TARGET_ENV_VARIABLES

/** The variable that keeps the embedded emulator's state between commands, like `--data-dir`. */
export const DATA_DIR_VARIABLE = "CDF_FN_DATA_DIR"

const isSet = (name: string) => {
  const value = process.env[name]
  return value !== undefined && value.trim() !== ""
}

/** Whether the command targets CDF (flags or `COGNITE_*` given) rather than the embedded emulator. */
export const selectsCdf = (flags: Flags): boolean =>
  flags.baseUrl !== undefined || flags.project !== undefined || Option.isSome(flags.token) ||
  SELECTING_VARIABLES.some(isSet)

/** The data directory for the embedded emulator: `--data-dir`, else `CDF_FN_DATA_DIR`. */
export const dataDir = (flags: Flags): Option.Option<string> =>
  Option.orElse(
    Option.fromNullable(flags.dataDir),
    () => (isSet(DATA_DIR_VARIABLE) ? Option.fromNullable(process.env[DATA_DIR_VARIABLE]) : Option.none())
  )

/** The services of the SDK a command may use. */
export type Services = CogniteFunctions.Services | CdfClient | Target

/** Why an embedded emulator could not start. */
const startError = (error: Emulator.StartError) =>
  new EnvironmentError({
    message: `the embedded emulator could not start: ${
      error._tag === "PersistenceError" ? error.message : String(error.cause)
    }`
  })

/**
 * The emulator's module, loaded when first needed: a command against CDF does not pay for loading it.
 */
export const loadEmulator: Effect.Effect<typeof EmulatorPackage> = Effect.promise(() => import("@effect-cdf/emulator"))

/** Starts an emulator in the current scope and gives it as a `Target` and the SDK's services over it. */
export const embeddedLayer = (
  options: Emulator.EmulatorOptions,
  announce: (info: Target.Info) => Effect.Effect<void>
): Layer.Layer<Services | Emulator.Emulator, EnvironmentError> =>
  Layer.unwrapEffect(Effect.map(loadEmulator, ({ Emulator }) => embeddedServices(Emulator, options, announce)))

const embeddedServices = (
  EmulatorModule: typeof Emulator,
  options: Emulator.EmulatorOptions,
  announce: (info: Target.Info) => Effect.Effect<void>
): Layer.Layer<Services | Emulator.Emulator, EnvironmentError> =>
  Layer.unwrapEffect(Effect.map(EmulatorModule.Emulator, (emulator) => {
    const info: Target.Info = {
      kind: "embedded",
      baseUrl: emulator.baseUrl,
      project: emulator.project,
      dataDir: Option.fromNullable(options.dataDir)
    }
    return CogniteFunctions.layer({ baseUrl: emulator.baseUrl, project: emulator.project, appName: "cdf-fn" }).pipe(
      Layer.provide(Auth.layerToken(emulator.token)),
      Layer.provide(NodeHttpClient.layer),
      Layer.merge(Layer.succeed(Target, info)),
      Layer.tap(() => announce(info))
    )
  })).pipe(Layer.provideMerge(Layer.mapError(EmulatorModule.layer(options), startError)))

const flagProvider = (flags: Flags): ConfigProvider.ConfigProvider => {
  const map = new Map<string, string>()
  if (flags.baseUrl !== undefined) map.set("COGNITE_BASE_URL", flags.baseUrl)
  if (flags.project !== undefined) map.set("COGNITE_PROJECT", flags.project)
  if (Option.isSome(flags.token)) map.set("COGNITE_TOKEN", Redacted.value(flags.token.value))
  return ConfigProvider.fromMap(map).pipe(ConfigProvider.orElse(() => ConfigProvider.fromEnv()))
}

/** The SDK's services over CDF, from the flags and the variables (flags win, then `COGNITE_*`, then `CDF_*`). */
export const cdfLayer = (flags: Flags): Layer.Layer<Services, ConfigError.ConfigError> =>
  Layer.effect(
    Target,
    Effect.map(CdfClient, (client): Target.Info => ({
      kind: "cdf",
      baseUrl: client.config.baseUrl,
      project: client.config.project,
      dataDir: Option.none()
    }))
  ).pipe(
    Layer.provideMerge(CogniteFunctions.layerConfig.pipe(Layer.provide(NodeHttpClient.layer))),
    Layer.provide(Layer.setConfigProvider(flagProvider(flags)))
  )
