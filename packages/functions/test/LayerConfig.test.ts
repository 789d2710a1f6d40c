import { HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import * as Calls from "../src/Calls.js"
import * as CogniteFunctions from "../src/CogniteFunctions.js"
import * as FunctionApps from "../src/FunctionApps.js"
import * as Functions from "../src/Functions.js"
import * as Schedules from "../src/Schedules.js"

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
})
