/** A scripted fake of the CDF API for the Functions and Schedules tests: records every request, answers JSON. */
import { Auth, CdfClient } from "@effect-cdf/http"
import * as TestClockDriver from "@effect-cdf/http/TestClockDriver"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { Cause, Clock, Effect, Exit, Layer, Logger, LogLevel, Redacted, Tracer } from "effect"
import { gunzipSync } from "node:zlib"
import * as Functions from "../../src/Functions.js"
import * as Schedules from "../../src/Schedules.js"
import * as Sessions from "../../src/Sessions.js"

/** The base URL of the fake project. */
export const BASE_URL = "https://example.cognitedata.com"
/** The project path every request goes under. */
export const PROJECT_PATH = "/api/v1/projects/p"
/** The static token of the fake client. */
export const TOKEN = "token-7c1e"

/** A request as the fake saw it. */
export interface Seen {
  readonly method: string
  /** The path under the project, for example `/functions/list`. */
  readonly path: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  /** The JSON body (gunzipped and parsed), when it was JSON. */
  readonly json: unknown
  /** The raw body text, when there was a body. */
  readonly text: string | undefined
  /** The raw body bytes (as sent, after gunzip), when there was a body. */
  readonly bytes: Uint8Array | undefined
  /** When the request arrived (TestClock milliseconds). */
  readonly at: number
}

/** How the fake answers. */
export interface Reply {
  readonly status: number
  readonly body?: unknown
}

/** The fake's answer to a request; `undefined` is a 404 naming the request (an unscripted route). */
export type Handler = (seen: Seen) => Reply | undefined

/** A fake CDF: its recorded requests and a layer of `Functions`, `Schedules`, `Sessions` and `CdfClient` over it. */
export const fakeCdf = (handler: Handler, sessions: Sessions.Options = {}) => {
  const requests: Array<Seen> = []
  const http = HttpClient.make((request, url) =>
    Effect.map(Clock.currentTimeMillis, (at) => {
      let bytes: Uint8Array | undefined
      if (request.body._tag === "Uint8Array") {
        bytes = request.headers["content-encoding"] === "gzip"
          ? new Uint8Array(gunzipSync(request.body.body))
          : request.body.body
      }
      const text = bytes === undefined ? undefined : new TextDecoder().decode(bytes)
      let json: unknown = undefined
      if (text !== undefined && request.headers["content-type"]?.startsWith("application/json")) json = JSON.parse(text)
      const seen: Seen = {
        method: request.method,
        path: url.pathname.startsWith(PROJECT_PATH) ? url.pathname.slice(PROJECT_PATH.length) : url.pathname,
        url: new URL(url.href),
        headers: { ...request.headers },
        json,
        text,
        bytes,
        at
      }
      requests.push(seen)
      const reply = handler(seen) ??
        { status: 404, body: { error: { code: 404, message: `unscripted ${seen.method} ${seen.path}` } } }
      return HttpClientResponse.fromWeb(
        request,
        new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
          status: reply.status,
          headers: { "content-type": "application/json" }
        })
      )
    })
  )
  const client = CdfClient.layer({
    baseUrl: BASE_URL,
    project: "p",
    appName: "functions-tests",
    attemptTimeout: "1 hour"
  })
    .pipe(
      Layer.provide(Auth.layerToken(Redacted.make(TOKEN))),
      Layer.provide(Layer.succeed(HttpClient.HttpClient, http))
    )
  const layer = Layer.mergeAll(Functions.layer, Schedules.layer).pipe(
    Layer.provideMerge(Sessions.layer(sessions)),
    Layer.provideMerge(client)
  )
  return { requests, layer }
}

/** A function as the API returns it. */
export const fn = (id: number, fields: Record<string, unknown> = {}) => ({
  id,
  createdTime: 1_700_000_000_000,
  status: "Ready",
  name: `fn-${id}`,
  fileId: 900 + id,
  functionPath: "handler.py",
  ...fields
})

/** A schedule as the API returns it. */
export const schedule = (id: number, fields: Record<string, unknown> = {}) => ({
  id,
  name: `schedule-${id}`,
  createdTime: 1_700_000_000_000,
  cronExpression: "*/5 * * * *",
  when: "Every 5 minutes",
  functionId: 1234,
  sessionId: 456,
  ...fields
})

/** The items of a JSON body `{ items: [...] }`. */
export const itemsOf = (seen: Seen | undefined): Array<unknown> => {
  const json = seen?.json
  if (typeof json !== "object" || json === null || !("items" in json) || !Array.isArray(json.items)) return []
  return json.items
}

/**
 * Runs `effect` to its end under the TestClock: whenever it waits, the clock jumps to the earliest pending
 * sleep no further than `horizonMillis` ahead (http's own driver, the one users get).
 */
export const drive = TestClockDriver.drive

/** Everything the program told the outside world: span names, attributes, events, ends, and log lines. */
export interface Telemetry {
  readonly spans: Array<string>
  readonly text: () => string
}

/** Runs `effect` to its exit with a tracer and a logger that record all they are given, as text to search. */
export const withTelemetry = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const lines: Array<string> = []
    const spans: Array<string> = []
    const render = (value: unknown): string => {
      try {
        return typeof value === "string" ? value : JSON.stringify(value) ?? String(value)
      } catch {
        return String(value)
      }
    }
    const tracer = Tracer.make({
      span: (name, parent, context, links, _startTime, kind) => {
        spans.push(name)
        lines.push(`span ${name}`)
        const attributes = new Map<string, unknown>()
        let counter = 0
        const span: Tracer.Span = {
          _tag: "Span",
          name,
          spanId: `span-${spans.length}-${counter++}`,
          traceId: "trace",
          parent,
          context,
          status: { _tag: "Started", startTime: 0n },
          attributes,
          links,
          sampled: true,
          kind,
          end: (_endTime, exit) => {
            lines.push(`end ${name} ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : render(exit.value)}`)
          },
          attribute: (key, value) => {
            attributes.set(key, value)
            lines.push(`attribute ${name} ${key}=${render(value)}`)
          },
          event: (eventName, _time, eventAttributes) => {
            lines.push(`event ${name} ${eventName} ${render(eventAttributes)}`)
          },
          addLinks: () => {}
        }
        return span
      },
      context: (f) => f()
    })
    const logger = Logger.make(({ annotations, message }) => {
      lines.push(`log ${render(message)} ${render(Object.fromEntries(annotations))}`)
    })
    return effect.pipe(
      Effect.withTracer(tracer),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Logger.withMinimumLogLevel(LogLevel.All),
      Effect.exit,
      Effect.map((exit) => [exit, { spans, text: () => lines.join("\n") } satisfies Telemetry] as const)
    )
  })
