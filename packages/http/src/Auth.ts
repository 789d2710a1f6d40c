/**
 * Where the bearer token of every request comes from: a static token, OAuth2 client credentials, or an
 * Effect of your own. Tokens and client secrets stay `Redacted` from where they enter to the
 * `Authorization` header; nothing logs, traces or prints them.
 *
 * @example
 * ```ts
 * import { Auth } from "@effect-cdf/http"
 * import { Redacted } from "effect"
 *
 * const auth = Auth.layerClientCredentials({
 *   tokenUrl: "https://login.microsoftonline.com/my-tenant/oauth2/v2.0/token",
 *   clientId: "my-client",
 *   clientSecret: Redacted.make("my-secret"),
 *   scopes: ["https://api.cognitedata.com/.default"]
 * })
 * ```
 *
 * @since 0.1.0
 */
import { AuthenticationFailed, redactSample } from "@effect-cdf/core/Errors"
import * as OAuth from "@effect-cdf/core/OAuth"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import type { ConfigError, Scope } from "effect"
import { Clock, Config, Context, Data, Duration, Effect, Layer, Option, Redacted, Schedule, Schema } from "effect"
import { baseUrlFromEnv } from "./CdfConfig.js"
import * as Env from "./internal/env.js"
import * as internal from "./internal/tokenCache.js"
import { guarded } from "./internal/transport.js"

/** A token and when it expires (epoch milliseconds of the effect `Clock`). */
export interface Token {
  readonly accessToken: Redacted.Redacted<string>
  readonly expiresAtMillis: number
}

/** The source of bearer tokens for the CDF API. */
export class Auth extends Context.Tag("@effect-cdf/http/Auth")<Auth, Auth.Service>() {}

/** The types of the `Auth` service. */
export declare namespace Auth {
  /** What a client asks of its token source. */
  export interface Service {
    /** A token to send now; a cached token is only handed out while it has `minimumValidity` left. */
    readonly token: Effect.Effect<Redacted.Redacted<string>, AuthenticationFailed>
    /**
     * After the API answered 401 to `rejected`: a fresh token, obtained at most once however many requests
     * were rejected together. Returns `rejected` itself when no other token can exist (a static token).
     */
    readonly refresh: (
      rejected: Redacted.Redacted<string>
    ) => Effect.Effect<Redacted.Redacted<string>, AuthenticationFailed>
    /**
     * A token to send now without waiting, when there is one that needs no refresh at `nowMillis`; a client
     * then skips the bounded wait around `token`. Optional: sources without it are always asked `token`.
     */
    readonly cached?: ((nowMillis: number) => Redacted.Redacted<string> | undefined) | undefined
  }
}

/** How a cached token is refreshed. */
export interface CacheOptions {
  /**
   * Refresh in the background once less than this is left; requests keep the old token meanwhile. Default 2
   * min, and never more than three quarters of the token's lifetime, so a short-lived token is refreshed
   * once per lifetime, not on every request.
   */
  readonly refreshWindow?: Duration.DurationInput | undefined
  /**
   * Never hand out a token with less than this left: wait for a new one instead. Default 30 s, and never
   * more than half the token's lifetime.
   */
  readonly minimumValidity?: Duration.DurationInput | undefined
  /**
   * After a failed fetch, wait this long before trying again; it doubles with every further failure, up to
   * 30 s. Meanwhile requests that have no usable token fail at once with the last failure. Default 3 s.
   */
  readonly retryInterval?: Duration.DurationInput | undefined
  /** How long one fetch may take, its retries included; a request never waits longer. Default 2 min. */
  readonly fetchTimeout?: Duration.DurationInput | undefined
}

/** A token source for one fixed token: `refresh` cannot produce another. */
export const makeStatic = (token: Redacted.Redacted<string>): Auth.Service => ({
  token: Effect.succeed(token),
  refresh: () => Effect.succeed(token),
  cached: () => token
})

/** A fixed token, for scripts and tests. */
export const layerToken = (token: Redacted.Redacted<string>): Layer.Layer<Auth> =>
  Layer.succeed(Auth, makeStatic(token))

/**
 * A token source that runs `get` for every request (and again on a 401): for a token your application
 * already caches and refreshes.
 */
export const layerEffect = <E, R>(
  get: Effect.Effect<Redacted.Redacted<string>, AuthenticationFailed | E, R>
): Layer.Layer<Auth, never, R> =>
  Layer.effect(
    Auth,
    Effect.map(Effect.context<R>(), (context): Auth.Service => {
      const token = get.pipe(
        Effect.catchAll((error) =>
          error instanceof AuthenticationFailed
            ? Effect.fail(error)
            : Effect.fail(new AuthenticationFailed({ description: "the token effect failed" }))
        ),
        Effect.provide(context)
      )
      return { token, refresh: () => token }
    })
  )

/**
 * A caching token source over `fetch`: one fetch at a time however many requests wait, a background
 * refresh inside `refreshWindow`, and no token handed out with less than `minimumValidity` left. Both
 * windows shrink with the token's lifetime. After a failure, fetches back off (doubling from
 * `retryInterval`) and requests without a usable token fail fast with that failure. Fetches run in the
 * given scope, interruptibly and within `fetchTimeout`, so a request that gives up does not cancel the
 * refresh others wait for, and a hung identity provider never hangs a request.
 */
export const makeCached: (
  fetch: Effect.Effect<Token, AuthenticationFailed>,
  options?: CacheOptions
) => Effect.Effect<Auth.Service, never, Scope.Scope> = internal.makeCached

/** A caching token source over your own `fetch` (which returns a token and its expiry). */
export const layerCached = <R>(
  fetch: Effect.Effect<Token, AuthenticationFailed, R>,
  options?: CacheOptions
): Layer.Layer<Auth, never, R> =>
  Layer.scoped(
    Auth,
    Effect.flatMap(Effect.context<R>(), (context) => makeCached(Effect.provide(fetch, context), options))
  )

/** OAuth2 client-credentials settings. */
export interface ClientCredentials extends CacheOptions {
  /** The identity provider's token endpoint. */
  readonly tokenUrl: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** The scopes to ask for, for example `["https://api.cognitedata.com/.default"]`. */
  readonly scopes: ReadonlyArray<string>
  /** Extra form fields some identity providers need (for example `audience`). */
  readonly extraParameters?: Readonly<Record<string, string>> | undefined
  /** How long one token request may take. Default 30 s. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Retries of a token request that failed transiently (transport, 429, 5xx). Default 2. */
  readonly retries?: number | undefined
}

/** Lifetime assumed when the token endpoint does not say: one hour. */
const DEFAULT_EXPIRES_IN_SECONDS = 3600

/** Lifetime assumed when the token endpoint says something unreadable (`null`, `"soon"`, `-5`): 5 min. */
const UNREADABLE_EXPIRES_IN_SECONDS = 300

const expiresInSeconds = (raw: unknown): number => {
  if (raw === undefined) return DEFAULT_EXPIRES_IN_SECONDS
  const value = typeof raw === "number"
    ? raw
    : typeof raw === "string" && /^\s*\d+(\.\d+)?\s*$/.test(raw)
    ? Number(raw)
    : NaN
  return Number.isFinite(value) && value > 0 ? value : UNREADABLE_EXPIRES_IN_SECONDS
}

class Transient extends Data.TaggedError("Transient")<{ readonly failure: AuthenticationFailed }> {}

/** One client-credentials token request: a form POST to the token endpoint. */
export const fetchClientCredentials = (
  settings: ClientCredentials
): Effect.Effect<Token, AuthenticationFailed, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const secret = Redacted.value(settings.clientSecret)
    // Whatever the identity provider says is shown only after the secret is cut out of it.
    const scrub = (text: string) => redactSample(secret.length > 0 ? text.split(secret).join("<redacted>") : text, 300)
    const request = HttpClientRequest.post(settings.tokenUrl).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bodyUrlParams({
        grant_type: "client_credentials",
        client_id: settings.clientId,
        client_secret: secret,
        scope: settings.scopes.join(" "),
        ...settings.extraParameters
      })
    )
    const once = Effect.gen(function*() {
      const response = yield* client.execute(request).pipe(
        Effect.mapError((error) =>
          new Transient({
            failure: new AuthenticationFailed({
              description: `the token endpoint could not be reached (${error.reason})`
            })
          })
        )
      )
      const text = yield* response.text.pipe(
        Effect.mapError(() =>
          new Transient({
            failure: new AuthenticationFailed({
              status: response.status,
              description: "the token endpoint's answer could not be read"
            })
          })
        )
      )
      if (response.status < 200 || response.status >= 300) {
        const body = Schema.decodeUnknownOption(Schema.parseJson(OAuth.ErrorResponse))(text)
        const said = Option.match(body, {
          onNone: () => "",
          onSome: (b) => [b.error, b.error_description].filter((s) => s !== undefined && s !== "").join(": ")
        })
        const failure = new AuthenticationFailed({
          status: response.status,
          description: said.length > 0 ? scrub(said) : "the token endpoint refused the request"
        })
        return yield* response.status === 429 || response.status >= 500
          ? Effect.fail(new Transient({ failure }))
          : Effect.fail(failure)
      }
      const decoded = Schema.decodeUnknownOption(Schema.parseJson(OAuth.TokenResponse))(text)
      if (Option.isNone(decoded)) {
        return yield* new AuthenticationFailed({
          status: response.status,
          description: "the token endpoint's answer has no access_token"
        })
      }
      const now = yield* Clock.currentTimeMillis
      return {
        accessToken: decoded.value.access_token,
        expiresAtMillis: now + expiresInSeconds(decoded.value.expires_in) * 1000
      } satisfies Token
    }).pipe(
      Effect.timeoutFail({
        duration: settings.requestTimeout ?? Duration.seconds(30),
        onTimeout: () =>
          new Transient({ failure: new AuthenticationFailed({ description: "the token request timed out" }) })
      })
    )
    return yield* once.pipe(
      guarded,
      Effect.retry({
        while: (error) => error._tag === "Transient",
        schedule: Schedule.exponential(Duration.millis(500)),
        times: Math.max(0, settings.retries ?? 2)
      }),
      Effect.catchTag("Transient", (error) => Effect.fail(error.failure))
    )
  }).pipe(Effect.withSpan("cdf.Auth.clientCredentials", { attributes: { "oauth.client_id": settings.clientId } }))

/** OAuth2 client credentials: tokens cached, refreshed before expiry, one request at a time. */
export const layerClientCredentials = (
  settings: ClientCredentials
): Layer.Layer<Auth, never, HttpClient.HttpClient> => layerCached(fetchClientCredentials(settings), settings)

/** The auth settings read from the environment: a token, or client credentials. */
export type EnvAuth =
  | { readonly _tag: "Token"; readonly token: Redacted.Redacted<string> }
  | { readonly _tag: "ClientCredentials"; readonly settings: ClientCredentials }

/**
 * Auth from the environment: a token (`COGNITE_TOKEN` or `CDF_TOKEN`), or client credentials
 * (`COGNITE_CLIENT_ID` or `IDP_CLIENT_ID`, `COGNITE_CLIENT_SECRET` or `IDP_CLIENT_SECRET`, and
 * `COGNITE_TOKEN_URL` or `IDP_TOKEN_URL`, or for Entra ID `IDP_TENANT_ID`), with `LOGIN_FLOW`, `PROVIDER`,
 * `COGNITE_SCOPES` / `IDP_SCOPES` (space or comma separated; default `{baseUrl}/.default`) and
 * `IDP_AUDIENCE` as the Cognite toolkit reads them. Every problem is named in one error, with both spellings.
 */
export const fromEnv: Config.Config<EnvAuth> = Config.suspend(() => Config.mapOrFail(Env.raw, Env.resolveAuth))

/**
 * The client id and secret from the environment (either spelling), when both are set: the credentials
 * sessions (nonces) are created with by default.
 */
export const clientCredentialsFromEnv: Config.Config<
  Option.Option<{ readonly clientId: string; readonly clientSecret: Redacted.Redacted<string> }>
> = Config.suspend(() => Config.map(Env.raw, Env.sessionCredentials))

/**
 * The auth layer for settings read by {@link fromEnv}; client credentials without scopes ask for
 * `{baseUrl}/.default`.
 */
export const layerFromSettings = (
  auth: EnvAuth,
  baseUrl: string
): Layer.Layer<Auth, never, HttpClient.HttpClient> =>
  auth._tag === "Token"
    ? layerToken(auth.token)
    : layerClientCredentials(
      auth.settings.scopes.length > 0 ? auth.settings : { ...auth.settings, scopes: [`${baseUrl}/.default`] }
    )

/** Auth from the environment variables described at {@link fromEnv}. */
export const layerConfig = (
  config: Config.Config<EnvAuth> = fromEnv
): Layer.Layer<Auth, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const auth = yield* config
    if (auth._tag === "ClientCredentials" && auth.settings.scopes.length === 0) {
      return layerFromSettings(auth, yield* baseUrlFromEnv)
    }
    return layerFromSettings(auth, "")
  }))
