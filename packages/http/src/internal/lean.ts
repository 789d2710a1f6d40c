import type { HttpClient, HttpClientError, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import type { Effect } from "effect"

/**
 * What a client of `UndiciHttpClient.make` offers besides `execute`: the same request with a time limit
 * that covers the answer and its body, kept by one timer instead of a fiber (the caller reads the body
 * within the limit). Such a client also follows no redirect, reads no `RequestInit` and opens no span of
 * its own, so the guards `CdfClient` puts around other clients (see `guarded`) would only cost time.
 */
export interface Lean {
  readonly executeWithin: (
    request: HttpClientRequest.HttpClientRequest,
    millis: number
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>
}

// Keyed by the client object itself: a client derived from it (`HttpClient.mapRequest`, ...) is a new object
// and gets the ordinary path, so whatever it adds is honoured.
const leans = new WeakMap<HttpClient.HttpClient, Lean>()

/** Records the lean side of a client. */
export const register = (client: HttpClient.HttpClient, lean: Lean): HttpClient.HttpClient => {
  leans.set(client, lean)
  return client
}

/** The lean side of a client of `UndiciHttpClient.make`, if it is exactly one. */
export const leanOf = (client: HttpClient.HttpClient): Lean | undefined => leans.get(client)

/** The cause of a request or body read that a lean client cut at its time limit. */
export class AttemptTimedOut extends Error {
  constructor(readonly millis: number) {
    super(`no complete answer within ${Math.round(millis)} ms`)
    this.name = "AttemptTimedOut"
  }
}

/** Whether a platform error is a lean client's time limit. */
export const isTimedOut = (error: HttpClientError.HttpClientError): boolean => error.cause instanceof AttemptTimedOut
