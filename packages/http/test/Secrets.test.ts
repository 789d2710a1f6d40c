import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import {
  Cause,
  Context,
  Effect,
  Exit,
  Inspectable,
  Layer,
  Logger,
  LogLevel,
  Option,
  Redacted,
  Schema,
  Tracer
} from "effect"
import { Auth, CdfClient } from "../src/index.js"
import { clientOver, drive, makeFake, type Reply, testOptions } from "./utils.js"

const CANARY_TOKEN = "canary-tok-8d1e"
const CANARY_SECRET = "canary-sec-4c7a"
const CANARY_NONCE = "canary-non-93f0"
const CANARIES = [CANARY_TOKEN, CANARY_SECRET, CANARY_NONCE]

/** A span as the recording tracer saw it. */
interface RecordedSpan {
  readonly name: string
  readonly attributes: Map<string, unknown>
}

/** A tracer that keeps every span it starts (with its attributes) and tells `hooks` of ends and events. */
const recordingTracer = (hooks: {
  readonly onEnd?: (span: RecordedSpan, exit: Exit.Exit<unknown, unknown>) => void
  readonly onEvent?: (name: string, attributes: Record<string, unknown> | undefined) => void
} = {}) => {
  const spans: Array<RecordedSpan> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const recorded: RecordedSpan = { name, attributes: new Map<string, unknown>() }
      spans.push(recorded)
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: String(spans.length),
        traceId: "trace",
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes: recorded.attributes,
        links,
        sampled: true,
        kind,
        end: (_endTime, exit) => hooks.onEnd?.(recorded, exit),
        attribute: (key, value) => {
          recorded.attributes.set(key, value)
        },
        event: (eventName, _time, eventAttributes) => hooks.onEvent?.(eventName, eventAttributes),
        addLinks: () => undefined
      }
      return span
    },
    context: (f) => f()
  })
  return { tracer, spans }
}

/** A tracer and a logger that write everything they see, as text, into `out`. */
const recorders = (out: Array<string>) => {
  const { tracer } = recordingTracer({
    onEnd: (span, exit) => {
      out.push(span.name)
      for (const [key, value] of span.attributes) out.push(`${key}=${Inspectable.format(value)}`)
      if (Exit.isFailure(exit)) out.push(Cause.pretty(exit.cause), Inspectable.format(exit))
    },
    onEvent: (eventName, eventAttributes) => {
      out.push(eventName, Inspectable.format(eventAttributes ?? {}))
    }
  })
  const logger = Logger.make(({ annotations, cause, message }) => {
    out.push(Inspectable.format(message), Inspectable.format(annotations), Cause.pretty(cause))
  })
  return { tracer, logger }
}

const replies: ReadonlyArray<Reply> = [
  { status: 200, body: { id: "not a number", echo: CANARY_NONCE, auth: `Bearer ${CANARY_TOKEN}` } },
  { status: 200, body: `oops ${CANARY_NONCE} ${CANARY_TOKEN}` },
  { status: 400, body: { error: { code: 400, message: `nonce ${CANARY_NONCE} is not valid` } } },
  { status: 401, body: { error: `token ${CANARY_TOKEN} expired` } },
  { status: 403, body: `<html>${CANARY_TOKEN}</html>` },
  { status: 409, body: { error: { code: 409, message: "dup", duplicated: [{ externalId: "fn-1" }] } } },
  { status: 429, headers: { "retry-after": "1" } },
  { status: 500, body: { error: { code: 500, message: `internal: ${CANARY_NONCE}` } } },
  { status: 503, headers: { "cdf-is-auto-retryable": "true" } },
  { transport: "ECONNREFUSED" },
  { transport: "ECONNRESET" },
  { transport: "EOTHER" },
  { brokenBody: 200 },
  { status: 200, body: { id: 1 } }
]

const tokenReplies: ReadonlyArray<Reply | undefined> = [
  undefined,
  { status: 401, body: { error: "invalid_client", error_description: `secret ${CANARY_SECRET} rejected` } },
  { status: 200, body: `{"access_token":"${CANARY_TOKEN}"` },
  { status: 500, body: { access_token: CANARY_TOKEN, error: CANARY_SECRET } }
]

describe("secrets", () => {
  it.scoped.prop(
    "no canary reaches logs, spans, error messages, String, JSON.stringify or Cause.pretty",
    {
      script: Schema.Array(Schema.Int.pipe(Schema.between(0, replies.length - 1))).pipe(Schema.maxItems(4)),
      tokenReply: Schema.Int.pipe(Schema.between(0, tokenReplies.length - 1)),
      clientCredentials: Schema.Boolean,
      safe: Schema.Boolean
    },
    ({ clientCredentials, safe, script, tokenReply }) =>
      Effect.gen(function*() {
        const out: Array<string> = []
        const { logger, tracer } = recorders(out)
        const fake = yield* makeFake((seen, i) => {
          if (seen.url.hostname === "login.example.com") {
            return tokenReplies[tokenReply] ?? { status: 200, body: { access_token: CANARY_TOKEN, expires_in: 3600 } }
          }
          return replies[script[i - (clientCredentials ? 1 : 0)] ?? replies.length - 1]
        })
        const auth = clientCredentials
          ? Auth.layerClientCredentials({
            tokenUrl: "https://login.example.com/token",
            clientId: "client",
            clientSecret: Redacted.make(CANARY_SECRET),
            scopes: ["s"],
            retries: 0
          })
          : Auth.layerToken(Redacted.make(CANARY_TOKEN))
        const client = yield* Layer.build(
          CdfClient.layer(testOptions).pipe(
            Layer.provide(auth),
            Layer.provide(Layer.succeed(HttpClient.HttpClient, fake.client))
          )
        ).pipe(Effect.map(Context.get(CdfClient.CdfClient)))
        const exit = yield* drive(
          client.execute({
            operation: "cdf.Functions.call",
            method: "POST",
            path: "/functions/1/call",
            body: { data: { x: 1 }, nonce: CANARY_NONCE },
            safety: safe ? "safe" : "unsafe",
            schema: Schema.Struct({ id: Schema.Number })
          }).pipe(
            Effect.withTracer(tracer),
            Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
            Logger.withMinimumLogLevel(LogLevel.All),
            Effect.exit
          )
        )
        if (Exit.isFailure(exit)) {
          const error = Cause.failureOption(exit.cause)
          out.push(Cause.pretty(exit.cause))
          if (Option.isSome(error)) {
            out.push(
              error.value.message,
              String(error.value),
              JSON.stringify(error.value),
              Inspectable.format(error.value)
            )
          }
        }
        assert.isAbove(out.length, 0)
        const text = out.join("\n")
        for (const canary of CANARIES) assert.notInclude(text, canary)
        // What was sent did carry the secrets: the test would notice a leak.
        assert.isTrue(
          fake.requests.some((r) => (r.body ?? "").includes(CANARY_NONCE) || (r.body ?? "").includes(CANARY_SECRET))
        )
      }),
    { fastCheck: { numRuns: 200 } }
  )

  it.scoped("spans carry the operation, method, path template, safety, status and attempts, never the token", () =>
    Effect.gen(function*() {
      const { spans, tracer } = recordingTracer()
      const fake = yield* makeFake((_, i) => i === 0 ? { status: 503 } : { status: 201, body: {} })
      const client = yield* clientOver(fake.client, {}, Auth.layerToken(Redacted.make(CANARY_TOKEN)))
      yield* drive(
        client.execute({
          operation: "cdf.Functions.get",
          method: "GET",
          path: "/functions/1",
          safety: "safe",
          schema: Schema.Unknown
        }).pipe(Effect.withTracer(tracer))
      )
      const operation = spans.find((s) => s.name === "cdf.Functions.get")
      assert.isDefined(operation)
      if (operation === undefined) return
      assert.strictEqual(operation.attributes.get("http.request.method"), "GET")
      assert.strictEqual(operation.attributes.get("url.template"), "/functions/1")
      assert.strictEqual(operation.attributes.get("cdf.safety"), "safe")
      assert.strictEqual(operation.attributes.get("http.response.status_code"), 201)
      assert.strictEqual(operation.attributes.get("cdf.attempts"), 2)
      const attempts = spans.filter((s) => s.name === "http.client GET")
      assert.deepStrictEqual(attempts.map((s) => s.attributes.get("http.response.status_code")), [503, 201])
      assert.deepStrictEqual(attempts.map((s) => s.attributes.get("cdf.attempt")), [1, 2])
      for (const span of spans) {
        for (const [key, value] of span.attributes) {
          assert.notInclude(`${key}=${String(value)}`, CANARY_TOKEN)
          assert.notMatch(key, /header/)
        }
      }
      // Trace context still propagates, from the attempt span.
      assert.isDefined(fake.requests[0].headers.traceparent)
    }))
})
