/**
 * Every service of the SDK in one layer: `Functions`, `Calls`, `Schedules`, `Sessions`, `FunctionApps`,
 * with the `CdfClient` they share.
 *
 * @example
 * ```ts
 * import { Calls, CogniteFunctions } from "@effect-cdf/functions"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 *
 * // COGNITE_BASE_URL or COGNITE_CLUSTER, COGNITE_PROJECT, and COGNITE_TOKEN or the client credentials
 * // (or the toolkit's CDF_CLUSTER, CDF_PROJECT, IDP_CLIENT_ID, IDP_CLIENT_SECRET, IDP_TENANT_ID)
 * const live = CogniteFunctions.layerConfig.pipe(Layer.provide(NodeHttpClient.layerUndici))
 *
 * const program = Effect.gen(function*() {
 *   const calls = yield* Calls.Calls
 *   return yield* calls.call("my-function", { x: 1 })
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(live)))
 * ```
 *
 * @since 0.1.0
 */
import type { CdfConfig } from "@effect-cdf/http"
import type { Auth } from "@effect-cdf/http/Auth"
import * as CdfClient from "@effect-cdf/http/CdfClient"
import type { HttpClient } from "@effect/platform"
import type { ConfigError } from "effect"
import { Effect, Layer } from "effect"
import * as Calls from "./Calls.js"
import * as FunctionApps from "./FunctionApps.js"
import * as Functions from "./Functions.js"
import { sessionOptions } from "./internal/env.js"
import * as Schedules from "./Schedules.js"
import * as Sessions from "./Sessions.js"

/** Every service this layer provides. */
export type Services =
  | Functions.Functions
  | Calls.Calls
  | Schedules.Schedules
  | Sessions.Sessions
  | FunctionApps.FunctionApps

/** The options of the combined layer: the client's options and the sessions' default credentials. */
export interface Options extends CdfConfig.Options {
  /** Client credentials that sessions (nonces for calls and schedules) are created with by default. */
  readonly sessions?: Sessions.Options | undefined
  /**
   * The running-call limits every call of this client paces itself to (`Calls.layerWith`): raise them when
   * the project's limits were raised; CDF's documented 100 per function and 250 per project by default.
   */
  readonly pacing?: Calls.PacingOptions | undefined
}

/**
 * The services over a `CdfClient` you provide, with sessions created as `options` say and calls paced as
 * `pacing` says (the defaults when not given).
 */
export const layerServices = (
  options: Sessions.Options = {},
  pacing?: Calls.PacingOptions
): Layer.Layer<Services, never, CdfClient.CdfClient> =>
  Layer.mergeAll(
    Functions.layer,
    pacing === undefined ? Calls.layer : Calls.layerWith(pacing),
    Schedules.layer,
    FunctionApps.layer
  ).pipe(
    Layer.provideMerge(Sessions.layer(options))
  )

/** The services and their `CdfClient`; you provide the `Auth` and the `HttpClient`. */
export const layer = (
  options: Options
): Layer.Layer<Services | CdfClient.CdfClient, never, Auth | HttpClient.HttpClient> =>
  layerServices(options.sessions, options.pacing).pipe(Layer.provideMerge(CdfClient.layer(options)))

/**
 * The services, their `CdfClient` and `Auth`, all from the environment: `COGNITE_*` or the Cognite
 * toolkit's names (`CDF_CLUSTER`, `CDF_PROJECT`, `IDP_CLIENT_ID`, ...; see docs/configuration.md for the
 * precedence). Sessions use the client credentials when they are set. Only the `HttpClient` is left to
 * provide; a missing or partial configuration is one `ConfigError` naming every problem.
 */
export const layerConfig: Layer.Layer<
  Services | CdfClient.CdfClient | Auth,
  ConfigError.ConfigError,
  HttpClient.HttpClient
> = Layer.unwrapEffect(
  Effect.map(sessionOptions, (options) => layerServices(options).pipe(Layer.provideMerge(CdfClient.layerFromEnv)))
)
