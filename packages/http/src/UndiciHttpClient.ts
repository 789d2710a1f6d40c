/**
 * The HTTP client we recommend on Node: an `HttpClient` straight over undici, about twice as lean per
 * request as `NodeHttpClient.layerUndici` (see `docs/benchmarks.md`). It keeps the `HttpClient`
 * contract (interruption aborts the request, `stream` for large bodies) but opens no span of its own:
 * `CdfClient` opens one per request. Any other `HttpClient` works with `CdfClient` too.
 *
 * Node only; import it from its own entry point so browser bundles never see undici.
 *
 * @example
 * ```ts
 * import { Auth, CdfClient } from "@effect-cdf/http"
 * import * as UndiciHttpClient from "@effect-cdf/http/UndiciHttpClient"
 * import { Layer, Redacted } from "effect"
 *
 * const live = CdfClient.layer({ cluster: "westeurope-1", project: "my-project" }).pipe(
 *   Layer.provide(Auth.layerToken(Redacted.make("token"))),
 *   Layer.provide(UndiciHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
import { HttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Agent, type Dispatcher } from "undici"
import * as internal from "./internal/undici.js"

/** An `HttpClient` over the given undici dispatcher (an `Agent`, a `Pool`, a `ProxyAgent`, ...). */
export const make: (dispatcher: Dispatcher) => HttpClient.HttpClient = internal.make

/** The client over a dispatcher of your own, kept open: you close it. */
export const layerDispatcher = (dispatcher: Dispatcher): Layer.Layer<HttpClient.HttpClient> =>
  Layer.succeed(HttpClient.HttpClient, make(dispatcher))

/** The client over a fresh undici `Agent` (keep-alive connection pools), closed with the layer. */
export const layer: Layer.Layer<HttpClient.HttpClient> = Layer.scoped(
  HttpClient.HttpClient,
  Effect.map(
    Effect.acquireRelease(Effect.sync(() => new Agent()), (agent) => Effect.promise(() => agent.destroy())),
    make
  )
)
