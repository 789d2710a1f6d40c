import * as Auth from "@effect-cdf/http/Auth"
import * as CdfClient from "@effect-cdf/http/CdfClient"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Option, Redacted } from "effect"
import * as Calls from "../src/Calls.js"
import * as CogniteFunctions from "../src/CogniteFunctions.js"
import * as FunctionApps from "../src/FunctionApps.js"
import * as Functions from "../src/Functions.js"
import * as Schedules from "../src/Schedules.js"
import * as Sessions from "../src/Sessions.js"

const limits = {
  timeoutMinutes: 9,
  cpuCores: { min: 1, max: 1, default: 1 },
  memoryGb: { min: 1.5, max: 1.5, default: 1.5 },
  runtimes: ["py311"],
  responseSizeMb: 1
}

const seen: Array<{ url: string; authorization: string | undefined }> = []
const http = Layer.succeed(
  HttpClient.HttpClient,
  HttpClient.make((request, url) =>
    Effect.sync(() => {
      seen.push({ url: url.href, authorization: request.headers.authorization })
      return HttpClientResponse.fromWeb(
        request,
        new Response(JSON.stringify(limits), { status: 200, headers: { "content-type": "application/json" } })
      )
    })
  )
)

const env = (vars: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(vars))))

describe("layerConfig", () => {
  it.effect("every service reads the COGNITE_* variables", () =>
    Effect.gen(function*() {
      const vars = env({ COGNITE_CLUSTER: "westeurope-1", COGNITE_PROJECT: "my-project", COGNITE_TOKEN: "t-123" })
      const limitsSeen = yield* Effect.flatMap(Functions.Functions, (f) => f.limits).pipe(
        Effect.provide(Functions.layerConfig.pipe(Layer.provide(http), Layer.provide(vars)))
      )
      expect(limitsSeen.timeoutMinutes).toBe(9)
      expect(seen[seen.length - 1]).toEqual({
        url: "https://westeurope-1.cognitedata.com/api/v1/projects/my-project/functions/limits",
        authorization: "Bearer t-123"
      })
      // the other layers build from the same variables
      const all = Layer.mergeAll(
        Calls.layerConfig,
        Schedules.layerConfig,
        FunctionApps.layerConfig,
        CogniteFunctions.layerConfig
      )
      yield* Layer.build(all.pipe(Layer.provide(http), Layer.provide(vars)))
    }).pipe(Effect.scoped))

  it.effect("a missing variable is one clear error naming it", () =>
    Effect.gen(function*() {
      const error = yield* Layer.build(
        Calls.layerConfig.pipe(
          Layer.provide(http),
          Layer.provide(env({ COGNITE_CLUSTER: "westeurope-1", COGNITE_TOKEN: "t" }))
        )
      ).pipe(Effect.scoped, Effect.flip)
      expect(String(error)).toContain("COGNITE_PROJECT")
    }))

  it.effect("the Cognite toolkit's names work too (CDF_CLUSTER, CDF_PROJECT, CDF_TOKEN)", () =>
    Effect.gen(function*() {
      const vars = env({ CDF_CLUSTER: "westeurope-1", CDF_PROJECT: "tk-project", CDF_TOKEN: "tk-123" })
      yield* Effect.flatMap(Functions.Functions, (f) => f.limits).pipe(
        Effect.provide(CogniteFunctions.layerConfig.pipe(Layer.provide(http), Layer.provide(vars)))
      )
      expect(seen[seen.length - 1]).toEqual({
        url: "https://westeurope-1.cognitedata.com/api/v1/projects/tk-project/functions/limits",
        authorization: "Bearer tk-123"
      })
    }))

  it.effect("a partial configuration (only a client secret) names what is missing in both spellings", () =>
    Effect.gen(function*() {
      const error = yield* Layer.build(
        CogniteFunctions.layerConfig.pipe(
          Layer.provide(http),
          Layer.provide(env({ IDP_CLIENT_SECRET: "canary-secret-9" }))
        )
      ).pipe(Effect.scoped, Effect.flip)
      const text = String(error)
      for (const part of ["COGNITE_PROJECT (or CDF_PROJECT)", "COGNITE_CLIENT_ID (or IDP_CLIENT_ID)"]) {
        expect(text).toContain(part)
      }
      expect(text).not.toContain("canary-secret-9")
    }))

  it.effect("Sessions reads the toolkit's IDP_CLIENT_ID and IDP_CLIENT_SECRET for the sessions it creates", () =>
    Effect.gen(function*() {
      const vars = env({ IDP_CLIENT_ID: "idp-id", IDP_CLIENT_SECRET: "idp-secret" })
      const credentials = yield* Effect.withConfigProvider(
        Sessions.clientCredentialsFromEnv,
        ConfigProvider.fromMap(new Map([["IDP_CLIENT_ID", "idp-id"], ["IDP_CLIENT_SECRET", "idp-secret"]]))
      )
      expect(Option.map(credentials, (c) => [c.clientId, Redacted.value(c.clientSecret)])).toEqual(
        Option.some(["idp-id", "idp-secret"])
      )
      // the layer creates its sessions with them
      const bodies: Array<unknown> = []
      const sessionsHttp = Layer.succeed(
        HttpClient.HttpClient,
        HttpClient.make((request) =>
          Effect.sync(() => {
            if (request.body._tag === "Uint8Array") bodies.push(JSON.parse(new TextDecoder().decode(request.body.body)))
            const items = [{ id: 1, status: "READY", nonce: "n-1", clientId: "idp-id" }]
            return HttpClientResponse.fromWeb(
              request,
              new Response(JSON.stringify({ items }), { status: 200, headers: { "content-type": "application/json" } })
            )
          })
        )
      )
      const client = CdfClient.layer({ baseUrl: "http://127.0.0.1:1", project: "p" }).pipe(
        Layer.provide(Auth.layerToken(Redacted.make("t")))
      )
      const nonce = yield* Effect.flatMap(Sessions.Sessions, (sessions) => sessions.nonce()).pipe(
        Effect.provide(
          Sessions.layerConfig.pipe(
            Layer.provide(client),
            Layer.provide(sessionsHttp),
            Layer.provide(vars)
          )
        )
      )
      expect(Redacted.value(nonce)).toBe("n-1")
      expect(JSON.stringify(bodies)).toContain("idp-id")
    }))
})
