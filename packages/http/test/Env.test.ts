import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Config, ConfigProvider, Context, Effect, Exit, Layer, Redacted, Schema } from "effect"
import { Auth, CdfClient, CdfConfig } from "../src/index.js"
import { drive, makeFake } from "./utils.js"

const provider = (env: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(env)))

const read = <A, E>(config: Effect.Effect<A, E>, env: Record<string, string>) =>
  Effect.exit(Effect.withConfigProvider(config, provider(env)))

/** Builds the client from `env` and sends one request: what the token endpoint and the API saw. */
const sent = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const fake = yield* makeFake((seen) =>
      seen.url.pathname.endsWith("/token")
        ? { status: 200, body: { access_token: "from-idp", expires_in: 3600 } }
        : { status: 200, body: {} }
    )
    const client = yield* Layer.build(
      CdfClient.layerFromEnv.pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, fake.client)))
    ).pipe(Effect.map(Context.get(CdfClient.CdfClient)), Effect.withConfigProvider(provider(env)))
    yield* drive(client.execute({ operation: "t", method: "GET", path: "/x", safety: "safe", schema: Schema.Unknown }))
    return fake.requests
  })

const failure = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) ? Cause.pretty(exit.cause) : assert.fail("expected a failure")

describe("the toolkit's variable names", () => {
  it.effect("CDF_CLUSTER and CDF_PROJECT give the client's base URL and project", () =>
    Effect.gen(function*() {
      const exit = yield* read(CdfConfig.fromEnv, { CDF_CLUSTER: "westeurope-1", CDF_PROJECT: "tk" })
      assert.deepStrictEqual(
        Exit.map(exit, (o) => [o.baseUrl, o.project]),
        Exit.succeed(["https://westeurope-1.cognitedata.com", "tk"])
      )
    }))

  it.effect("CDF_URL wins over a cluster; COGNITE_* wins over the toolkit's name", () =>
    Effect.gen(function*() {
      const exit = yield* read(CdfConfig.fromEnv, {
        CDF_CLUSTER: "westeurope-1",
        CDF_URL: "https://other.example.com",
        CDF_PROJECT: "tk",
        COGNITE_PROJECT: "mine"
      })
      assert.deepStrictEqual(
        Exit.map(exit, (o) => [o.baseUrl, o.project]),
        Exit.succeed(["https://other.example.com", "mine"])
      )
    }))

  it.scoped("IDP_* client credentials with an Entra tenant id: the token URL and the default scope", () =>
    Effect.gen(function*() {
      const requests = yield* sent({
        CDF_CLUSTER: "api",
        CDF_PROJECT: "tk",
        IDP_CLIENT_ID: "tk-client",
        IDP_CLIENT_SECRET: "tk-secret-value",
        IDP_TENANT_ID: "contoso.onmicrosoft.com"
      })
      const token = requests[0]
      assert.strictEqual(token.url.href, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
      const form = new URLSearchParams(token.body ?? "")
      assert.strictEqual(form.get("client_id"), "tk-client")
      assert.strictEqual(form.get("client_secret"), "tk-secret-value")
      assert.strictEqual(form.get("scope"), "https://api.cognitedata.com/.default")
      assert.isNull(form.get("audience"))
      assert.strictEqual(requests[1].url.href, "https://api.cognitedata.com/api/v1/projects/tk/x")
      assert.strictEqual(requests[1].headers.authorization, "Bearer from-idp")
    }))

  it.scoped("IDP_TOKEN_URL, IDP_SCOPES (comma separated) and IDP_AUDIENCE; auth0's defaults", () =>
    Effect.gen(function*() {
      const [explicit] = yield* sent({
        CDF_CLUSTER: "api",
        CDF_PROJECT: "tk",
        IDP_CLIENT_ID: "c",
        IDP_CLIENT_SECRET: "s-secret-value",
        IDP_TOKEN_URL: "https://idp.example.com/token",
        IDP_SCOPES: "a/.default,b",
        IDP_AUDIENCE: "https://aud.example.com"
      })
      const form = new URLSearchParams(explicit.body ?? "")
      assert.strictEqual(explicit.url.href, "https://idp.example.com/token")
      assert.strictEqual(form.get("scope"), "a/.default b")
      assert.strictEqual(form.get("audience"), "https://aud.example.com")
      const [auth0] = yield* sent({
        CDF_CLUSTER: "api",
        CDF_PROJECT: "tk",
        PROVIDER: "auth0",
        IDP_CLIENT_ID: "c",
        IDP_CLIENT_SECRET: "s-secret-value",
        IDP_TOKEN_URL: "https://tenant.auth0.com/oauth/token"
      })
      const auth0Form = new URLSearchParams(auth0.body ?? "")
      assert.strictEqual(auth0Form.get("scope"), "IDENTITY ADMIN user_impersonation")
      assert.strictEqual(auth0Form.get("audience"), "https://api.cognitedata.com")
    }))

  it.effect("CDF_TOKEN is a token; LOGIN_FLOW=client_credentials ignores it", () =>
    Effect.gen(function*() {
      const token = yield* read(Auth.fromEnv, { CDF_TOKEN: "tk-token" })
      assert.isTrue(Exit.isSuccess(token) && token.value._tag === "Token")
      if (Exit.isSuccess(token) && token.value._tag === "Token") {
        assert.strictEqual(Redacted.value(token.value.token), "tk-token")
      }
      const flow = yield* read(Auth.fromEnv, { CDF_TOKEN: "tk-token", LOGIN_FLOW: "client_credentials" })
      assert.include(failure(flow), "COGNITE_CLIENT_ID (or IDP_CLIENT_ID)")
    }))

  const failures: Array<[string, Record<string, string>, ReadonlyArray<string>]> = [
    ["only a client secret", { COGNITE_CLIENT_SECRET: "canary-secret-1" }, [
      "COGNITE_BASE_URL (or CDF_URL)",
      "COGNITE_CLUSTER (or CDF_CLUSTER)",
      "COGNITE_PROJECT (or CDF_PROJECT)",
      "COGNITE_CLIENT_ID (or IDP_CLIENT_ID)",
      "COGNITE_TOKEN_URL (or IDP_TOKEN_URL) or IDP_TENANT_ID"
    ]],
    ["the toolkit's names without a tenant or token URL", {
      CDF_CLUSTER: "api",
      CDF_PROJECT: "tk",
      IDP_CLIENT_ID: "c",
      IDP_CLIENT_SECRET: "canary-secret-1"
    }, ["COGNITE_TOKEN_URL (or IDP_TOKEN_URL) or IDP_TENANT_ID is not set"]],
    ["an interactive login flow", { CDF_CLUSTER: "api", CDF_PROJECT: "tk", LOGIN_FLOW: "interactive" }, [
      "LOGIN_FLOW must be client_credentials or token"
    ]],
    ["an unknown provider", { CDF_CLUSTER: "api", CDF_PROJECT: "tk", CDF_TOKEN: "canary-secret-1", PROVIDER: "x" }, [
      "PROVIDER must be entra_id or auth0 or other"
    ]],
    ["a malformed tenant", {
      CDF_CLUSTER: "api",
      CDF_PROJECT: "tk",
      IDP_CLIENT_ID: "c",
      IDP_CLIENT_SECRET: "canary-secret-1",
      IDP_TENANT_ID: "a/b"
    }, ["IDP_TENANT_ID must be"]],
    ["a malformed CDF_URL", { CDF_URL: "nope", CDF_PROJECT: "tk", CDF_TOKEN: "canary-secret-1" }, [
      "CDF_URL is not a URL"
    ]]
  ]
  for (const [name, env, expected] of failures) {
    it.effect(`${name}: one error naming every problem with both spellings`, () =>
      Effect.gen(function*() {
        const exit = yield* read(Config.all([CdfConfig.fromEnv, Auth.fromEnv]), env)
        const text = failure(exit)
        for (const part of expected) assert.include(text, part)
        assert.notInclude(text, "canary-secret-1")
      }))
  }

  it("lists every variable it reads", () => {
    for (
      const name of [
        "CDF_CLUSTER",
        "CDF_PROJECT",
        "CDF_URL",
        "CDF_TOKEN",
        "LOGIN_FLOW",
        "PROVIDER",
        "IDP_CLIENT_ID",
        "IDP_CLIENT_SECRET",
        "IDP_TOKEN_URL",
        "IDP_TENANT_ID",
        "IDP_SCOPES",
        "IDP_AUDIENCE",
        "COGNITE_TOKEN"
      ]
    ) assert.include(CdfConfig.TARGET_ENV_VARIABLES, name)
    assert.notInclude(CdfConfig.TARGET_ENV_VARIABLES, "COGNITE_APP_NAME")
  })
})
