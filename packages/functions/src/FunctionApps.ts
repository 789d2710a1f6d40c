/**
 * Function Apps (preview): call a route of a function app and get its envelope back, decoded. Requests
 * carry `cdf-version: 20230101-beta`.
 *
 * Synchronously, `POST /function-apps/{externalId}/calls` answers when the call has ended. Asynchronously
 * (`async: true`, header `Prefer: respond-async`), it answers `202` with a `Location` to poll; that URL is
 * only requested when it is on the configured CDF origin, polled on the same schedule and deadline as
 * `Calls.call`.
 *
 * @example
 * ```ts
 * import { FunctionApps } from "@effect-cdf/functions"
 * import { Effect, Schema } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const apps = yield* FunctionApps.FunctionApps
 *   const result = yield* apps.call("items-app", { method: "GET", path: "/items/123" }, {
 *     schema: Schema.Struct({ id: Schema.String, name: Schema.String })
 *   })
 *   return result.envelope._tag === "AppSuccess" ? result.envelope.data.name : result.envelope.message
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { FunctionApp, FunctionCall, Ids } from "@effect-cdf/core"
import type { CallFailed, CallTimedOut, PollDeadlineExceeded, UntrustedUrl } from "@effect-cdf/core/Errors"
import type { CdfClient } from "@effect-cdf/http/CdfClient"
import type { HttpClient } from "@effect/platform"
import type { ConfigError, Duration, Effect, Option, Schedule, Schema } from "effect"
import { Context, Layer } from "effect"
import { fromEnv } from "./internal/env.js"
import * as internal from "./internal/functionApps.js"
import type { ReadError, WriteError } from "./ServiceError.js"
import type { NonceOptions, Sessions } from "./Sessions.js"

/** The `cdf-version` Function Apps need. */
export const CDF_VERSION: string = internal.CDF_VERSION

/** What to send to an app: the route and its body. */
export interface AppRequest {
  readonly method: FunctionApp.AppMethod
  /** The route, starting with `/`; a query string is passed to the app as it is. */
  readonly path: string
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/** An app's success envelope, with `data` decoded. */
export interface AppSuccess<A> {
  readonly _tag: "AppSuccess"
  readonly status_code: number
  readonly data: A
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/** What an app answered: its success envelope with decoded data, or its error envelope. */
export type AppResponse<A> = AppSuccess<A> | FunctionApp.AppError

/** The result of an app call that completed. */
export interface AppResult<A> {
  readonly callId: Ids.CallId
  readonly functionId: Ids.FunctionId
  readonly envelope: AppResponse<A>
  /** Polls of the `Location` URL (0 for a synchronous call). */
  readonly polls: number
}

/** Options of an app call. */
export interface AppCallOptions<A = unknown, I = unknown> extends NonceOptions {
  /** Decodes the `data` of a success envelope; without it `data` is `unknown`. */
  readonly schema?: Schema.Schema<A, I> | undefined
  /** Ask for `202` + `Location` and poll it, instead of holding one request open. */
  readonly async?: boolean | undefined
  /** How long to poll an asynchronous call; default the project's call timeout plus a minute. */
  readonly deadline?: Duration.DurationInput | undefined
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
}

/**
 * Every error an app call can end with: the call's (a write), its outcome, and a `Location` to poll that is
 * not on the CDF origin (`UntrustedUrl`, never requested).
 */
export type AppCallError = WriteError | CallFailed | CallTimedOut | PollDeadlineExceeded | UntrustedUrl

/** Calls Function Apps and reads their calls. */
export class FunctionApps extends Context.Tag("@effect-cdf/functions/FunctionApps")<
  FunctionApps,
  FunctionApps.Service
>() {}

/** The types of the `FunctionApps` service. */
export declare namespace FunctionApps {
  /** What the Function Apps service offers. */
  export interface Service {
    /**
     * Calls a route of an app. A call that `Failed` or timed out fails with `CallFailed` / `CallTimedOut`;
     * a completed call gives the app's envelope, success or error, decoded.
     */
    readonly call: {
      <A, I>(
        externalId: string,
        request: AppRequest,
        options: AppCallOptions<A, I> & { readonly schema: Schema.Schema<A, I> }
      ): Effect.Effect<AppResult<A>, AppCallError>
      (
        externalId: string,
        request: AppRequest,
        options?: AppCallOptions & { readonly schema?: undefined }
      ): Effect.Effect<AppResult<unknown>, AppCallError>
    }
    /** The calls of an app. */
    readonly listCalls: (externalId: string) => Effect.Effect<ReadonlyArray<FunctionCall.FunctionCall>, ReadError>
    /** The response of one app call: `None` when there is none. */
    readonly response: (externalId: string, callId: number) => Effect.Effect<Option.Option<unknown>, ReadError>
    /** The log lines of one app call. */
    readonly logs: (
      externalId: string,
      callId: number
    ) => Effect.Effect<ReadonlyArray<FunctionCall.FunctionCallLogEntry>, ReadError>
  }
}

/** A Function Apps service over a CDF client and a sessions service. */
export const make: Effect.Effect<FunctionApps.Service, never, CdfClient | Sessions> = internal.make

/** The Function Apps service; needs a `CdfClient` and `Sessions`. */
export const layer: Layer.Layer<FunctionApps, never, CdfClient | Sessions> = Layer.effect(FunctionApps, make)

/**
 * The service with its client, auth and sessions from the `COGNITE_*` variables; only the `HttpClient` is
 * left to provide. To use several services, prefer `CogniteFunctions.layerConfig`: one client for all.
 */
export const layerConfig: Layer.Layer<FunctionApps, ConfigError.ConfigError, HttpClient.HttpClient> = layer.pipe(
  Layer.provide(fromEnv)
)
