/** What every service's `layerConfig` stands on: the client, auth and sessions, all from the environment. */
import * as Auth from "@effect-cdf/http/Auth"
import { layerFromEnv } from "@effect-cdf/http/CdfClient"
import { Effect, Layer, Option } from "effect"
import * as Sessions from "../Sessions.js"

/**
 * The sessions' options from the environment: the client credentials (`COGNITE_CLIENT_ID` or `IDP_CLIENT_ID`
 * with `COGNITE_CLIENT_SECRET` or `IDP_CLIENT_SECRET`) when both are set.
 */
export const sessionOptions = Effect.map(
  Auth.clientCredentialsFromEnv,
  (credentials): Sessions.Options =>
    Option.match(credentials, { onNone: () => ({}), onSome: (clientCredentials) => ({ clientCredentials }) })
)

/**
 * `CdfClient`, `Auth` and `Sessions` from the environment (`COGNITE_*` or the toolkit's names); only the
 * `HttpClient` is left to provide.
 */
export const fromEnv = Layer.unwrapEffect(Effect.map(sessionOptions, Sessions.layer)).pipe(
  Layer.provideMerge(layerFromEnv)
)
