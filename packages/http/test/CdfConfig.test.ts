import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Cause, ConfigProvider, Context, Effect, Either, Exit, Layer, Schema } from "effect"
import { CdfClient, CdfConfig } from "../src/index.js"
import { drive, makeFake } from "./utils.js"

const fromEnv = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const fake = yield* makeFake((seen) =>
      seen.url.hostname === "login.example.com"
        ? { status: 200, body: { access_token: "t", expires_in: 3600 } }
        : { status: 200, body: {} }
    )
    const exit = yield* Layer.build(
      CdfClient.layerFromEnv.pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, fake.client)))
    ).pipe(
      Effect.map(Context.get(CdfClient.CdfClient)),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      Effect.exit
    )
    return { exit, fake }
  })

/** A plain safe request, to see what the client sends. */
const getX = { operation: "t", method: "GET", path: "/x", safety: "safe", schema: Schema.Unknown } as const

const failureText = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) ? Cause.pretty(exit.cause) : assert.fail("expected a failure")

describe("CdfConfig", () => {
  it("resolves a cluster to its base URL and defaults the headers", () => {
    const config = CdfConfig.resolve({ cluster: "westeurope-1", project: "proj" })
    assert.isTrue(Either.isRight(config))
    if (Either.isLeft(config)) return
    assert.strictEqual(config.right.baseUrl, "https://westeurope-1.cognitedata.com")
    assert.strictEqual(config.right.projectUrl, "https://westeurope-1.cognitedata.com/api/v1/projects/proj")
    assert.strictEqual(config.right.cdfVersion, "20230101")
    assert.strictEqual(config.right.sdkHeader, "effect-cdf:0.1.0")
    assert.strictEqual(config.right.retry.maxAttempts, 5)
  })

  it("refuses malformed options, naming the setting", () => {
    const cases: Array<[CdfConfig.Options, string]> = [
      [{ project: "p" }, "baseUrl"],
      [{ baseUrl: "not a url", project: "p" }, "baseUrl"],
      [{ baseUrl: "ftp://x.example", project: "p" }, "baseUrl"],
      [{ baseUrl: "http://api.cognitedata.com", project: "p" }, "baseUrl"],
      [{ baseUrl: "https://u:p@api.cognitedata.com", project: "p" }, "baseUrl"],
      [{ baseUrl: "https://api.cognitedata.com?x=1", project: "p" }, "baseUrl"],
      [{ cluster: "West Europe", project: "p" }, "cluster"],
      [{ cluster: "api", project: "my/project" }, "project"]
    ]
    for (const [options, setting] of cases) {
      const result = CdfConfig.resolve(options)
      assert.isTrue(Either.isLeft(result), JSON.stringify(options))
      if (Either.isLeft(result)) assert.strictEqual(result.left.setting, setting)
    }
    assert.isTrue(Either.isRight(CdfConfig.resolve({ baseUrl: "http://127.0.0.1:4000/", project: "p" })))
    assert.isTrue(
      Either.isRight(CdfConfig.resolve({ baseUrl: "http://emulator:4000", project: "p", allowInsecureHttp: true }))
    )
  })

  it.scoped("reads COGNITE_BASE_URL, COGNITE_PROJECT and COGNITE_TOKEN", () =>
    Effect.gen(function*() {
      const { exit, fake } = yield* fromEnv({
        COGNITE_BASE_URL: "https://api.cognitedata.com/",
        COGNITE_PROJECT: "proj",
        COGNITE_TOKEN: "env-token",
        COGNITE_APP_NAME: "env-app"
      })
      const client = yield* exit
      yield* client.execute(getX)
      const [seen] = fake.requests
      assert.strictEqual(seen.url.href, "https://api.cognitedata.com/api/v1/projects/proj/x")
      assert.strictEqual(seen.headers.authorization, "Bearer env-token")
      assert.strictEqual(seen.headers["x-cdp-app"], "env-app")
    }))

  const credentials = {
    COGNITE_PROJECT: "proj",
    COGNITE_CLIENT_ID: "id",
    COGNITE_CLIENT_SECRET: "secret",
    COGNITE_TOKEN_URL: "https://login.example.com/token"
  }
  const scopes: Array<[string, Record<string, string>, string]> = [
    [
      "reads client credentials, with the scope defaulting to {baseUrl}/.default",
      { COGNITE_CLUSTER: "westeurope-1" },
      "https://westeurope-1.cognitedata.com/.default"
    ],
    [
      "COGNITE_SCOPES overrides the default scope",
      { COGNITE_CLUSTER: "api", COGNITE_SCOPES: "a/.default, b" },
      "a/.default b"
    ]
  ]
  for (const [name, env, scope] of scopes) {
    it.scoped(name, () =>
      Effect.gen(function*() {
        const { exit, fake } = yield* fromEnv({ ...credentials, ...env })
        const client = yield* exit
        yield* drive(client.execute(getX))
        assert.strictEqual(new URLSearchParams(fake.requests[0].body ?? "").get("scope"), scope)
        assert.strictEqual(fake.requests[1].headers.authorization, "Bearer t")
      }))
  }

  const failures: Array<[string, Record<string, string>, ReadonlyArray<string>]> = [
    ["nothing", {}, ["COGNITE_BASE_URL", "COGNITE_CLUSTER"]],
    ["no project", { COGNITE_CLUSTER: "api", COGNITE_TOKEN: "t" }, ["COGNITE_PROJECT"]],
    ["a malformed base URL", { COGNITE_BASE_URL: "api.cognitedata", COGNITE_PROJECT: "p", COGNITE_TOKEN: "t" }, [
      "COGNITE_BASE_URL is not a URL"
    ]],
    ["a malformed cluster", { COGNITE_CLUSTER: "West Europe", COGNITE_PROJECT: "p", COGNITE_TOKEN: "t" }, [
      "COGNITE_CLUSTER must be a cluster name"
    ]],
    ["no credentials", { COGNITE_CLUSTER: "api", COGNITE_PROJECT: "p" }, ["COGNITE_TOKEN", "COGNITE_CLIENT_ID"]],
    [
      "incomplete client credentials",
      { COGNITE_CLUSTER: "api", COGNITE_PROJECT: "p", COGNITE_CLIENT_ID: "id", COGNITE_CLIENT_SECRET: "canary-s" },
      ["COGNITE_TOKEN_URL"]
    ],
    [
      "a malformed token URL",
      {
        COGNITE_CLUSTER: "api",
        COGNITE_PROJECT: "p",
        COGNITE_CLIENT_ID: "id",
        COGNITE_CLIENT_SECRET: "canary-s",
        COGNITE_TOKEN_URL: "nope"
      },
      ["COGNITE_TOKEN_URL is not a URL"]
    ]
  ]
  for (const [name, env, expected] of failures) {
    it.scoped(`fails with a message naming the variable on ${name}`, () =>
      Effect.gen(function*() {
        const { exit } = yield* fromEnv(env)
        const text = failureText(exit)
        for (const part of expected) assert.include(text, part)
        assert.notInclude(text, "canary-s")
      }))
  }
})
