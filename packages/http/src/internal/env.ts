/**
 * Reading the environment: the SDK's own `COGNITE_*` names and the Cognite toolkit's names (`CDF_*`,
 * `IDP_*`, `LOGIN_FLOW`, `PROVIDER`, as in `cognite_toolkit/_cdf_tk/utils/auth.py`), one precedence for
 * both, and every problem named with both spellings in one error.
 */
import { Config, ConfigError, Duration, Either, Option, Redacted } from "effect"
import type { ClientCredentials, EnvAuth } from "../Auth.js"
import type { Options } from "../CdfConfig.js"
import { clusterUrl, validateBaseUrl, validateProject } from "../CdfConfig.js"

/**
 * Every variable read, in precedence order within each setting: the first one set wins. `COGNITE_*` comes
 * before the toolkit's name; an explicit URL comes before a cluster name.
 */
export const SETTINGS = {
  baseUrl: ["COGNITE_BASE_URL", "CDF_URL"],
  cluster: ["COGNITE_CLUSTER", "CDF_CLUSTER"],
  project: ["COGNITE_PROJECT", "CDF_PROJECT"],
  token: ["COGNITE_TOKEN", "CDF_TOKEN"],
  clientId: ["COGNITE_CLIENT_ID", "IDP_CLIENT_ID"],
  clientSecret: ["COGNITE_CLIENT_SECRET", "IDP_CLIENT_SECRET"],
  tokenUrl: ["COGNITE_TOKEN_URL", "IDP_TOKEN_URL"],
  tenantId: ["IDP_TENANT_ID"],
  scopes: ["COGNITE_SCOPES", "IDP_SCOPES"],
  audience: ["IDP_AUDIENCE"],
  loginFlow: ["LOGIN_FLOW"],
  provider: ["PROVIDER"],
  appName: ["COGNITE_APP_NAME"],
  cdfVersion: ["COGNITE_CDF_VERSION"],
  timeout: ["COGNITE_TIMEOUT"]
} as const

type Setting = keyof typeof SETTINGS

/** The variables that carry a secret: read as `Redacted`, never quoted. */
const SECRETS: ReadonlySet<string> = new Set([...SETTINGS.token, ...SETTINGS.clientSecret])

/** Every variable name that configures a CDF target. */
export const VARIABLES: ReadonlyArray<string> = Object.values(SETTINGS).flat()

/** The variables that say where and how to reach CDF (not the optional tuning ones). */
export const TARGET_VARIABLES: ReadonlyArray<string> = VARIABLES.filter(
  (name) => !["COGNITE_APP_NAME", "COGNITE_CDF_VERSION", "COGNITE_TIMEOUT"].includes(name)
)

/** A value read: its variable and its text (a secret's text stays redacted). */
interface Found {
  readonly name: string
  readonly value: Redacted.Redacted<string>
}

/** What the environment holds: for each setting, the first of its variables that is set (and not blank). */
export type Raw = { readonly [K in Setting]: Option.Option<Found> }

const read = (name: string): Config.Config<Option.Option<Found>> =>
  Config.option(SECRETS.has(name) ? Config.redacted(name) : Config.map(Config.string(name), Redacted.make)).pipe(
    Config.map(Option.filter((value) => Redacted.value(value).trim() !== "")),
    Config.map(Option.map((value) => ({ name, value })))
  )

const first = (names: ReadonlyArray<string>): Config.Config<Option.Option<Found>> =>
  Config.map(Config.all(names.map(read)), (found) => Option.firstSomeOf(found))

/** Reads every setting at once. */
export const raw: Config.Config<Raw> = Config.all({
  baseUrl: first(SETTINGS.baseUrl),
  cluster: first(SETTINGS.cluster),
  project: first(SETTINGS.project),
  token: first(SETTINGS.token),
  clientId: first(SETTINGS.clientId),
  clientSecret: first(SETTINGS.clientSecret),
  tokenUrl: first(SETTINGS.tokenUrl),
  tenantId: first(SETTINGS.tenantId),
  scopes: first(SETTINGS.scopes),
  audience: first(SETTINGS.audience),
  loginFlow: first(SETTINGS.loginFlow),
  provider: first(SETTINGS.provider),
  appName: first(SETTINGS.appName),
  cdfVersion: first(SETTINGS.cdfVersion),
  timeout: first(SETTINGS.timeout)
})

/** `COGNITE_PROJECT (or CDF_PROJECT)`: how an error names a setting. */
export const spell = (setting: Setting): string => {
  const [main, ...others] = SETTINGS[setting]
  return others.length === 0 ? main : `${main} (or ${others.join(", ")})`
}

const text = (found: Found) => Redacted.value(found.value).trim()

/** A problem found, and the variable it is about. */
interface Issue {
  readonly path: string
  readonly message: string
}

const fail = (issues: ReadonlyArray<Issue>): ConfigError.ConfigError => {
  const errors = issues.map((issue) =>
    issue.message.includes(" is not set")
      ? ConfigError.MissingData([issue.path], issue.message)
      : ConfigError.InvalidData([issue.path], issue.message)
  )
  return errors.slice(1).reduce(
    (all, error) => ConfigError.And(all, error),
    errors[0] ?? ConfigError.MissingData([], "")
  )
}

/** The base URL: `COGNITE_BASE_URL`, `CDF_URL`, then `https://{cluster}.cognitedata.com`. */
export const resolveBaseUrl = (env: Raw): Either.Either<string, Issue> => {
  if (Option.isSome(env.baseUrl)) {
    const found = env.baseUrl.value
    return Either.mapLeft(
      validateBaseUrl(text(found)),
      (issue) => ({ path: found.name, message: `${found.name} ${issue}` })
    )
  }
  if (Option.isSome(env.cluster)) {
    const found = env.cluster.value
    return Either.mapLeft(clusterUrl(text(found)), (issue) => ({ path: found.name, message: `${found.name} ${issue}` }))
  }
  return Either.left({
    path: "COGNITE_BASE_URL",
    message: `the API's address is not set: set ${spell("baseUrl")}, e.g. https://api.cognitedata.com, or ${
      spell("cluster")
    }, e.g. westeurope-1`
  })
}

const issues = (results: ReadonlyArray<Either.Either<unknown, Issue>>): Array<Issue> =>
  results.flatMap((result) => (Either.isLeft(result) ? [result.left] : []))

/** The client's options from what was read; `Left` lists every problem. */
export const resolveOptions = (env: Raw): Either.Either<Options, ConfigError.ConfigError> => {
  const baseUrl = resolveBaseUrl(env)
  const project = Option.match(env.project, {
    onNone: () =>
      Either.left<Issue>({ path: "COGNITE_PROJECT", message: `the project is not set: set ${spell("project")}` }),
    onSome: (found) =>
      Either.mapLeft(validateProject(text(found)), (issue): Issue => ({
        path: found.name,
        message: `${found.name} ${issue}`
      }))
  })
  const timeout = Option.match(env.timeout, {
    onNone: () => Either.right(undefined),
    onSome: (found) => {
      const millis = durationMillis(text(found))
      return millis === undefined
        ? Either.left<Issue>({
          path: found.name,
          message: `${found.name} must be a duration such as "30 seconds" or a number of milliseconds`
        })
        : Either.right(millis)
    }
  })
  const problems = issues([baseUrl, project, timeout])
  if (problems.length > 0 || Either.isLeft(baseUrl) || Either.isLeft(project) || Either.isLeft(timeout)) {
    return Either.left(fail(problems))
  }
  return Either.right({
    baseUrl: baseUrl.right,
    project: project.right,
    appName: Option.getOrUndefined(Option.map(env.appName, text)),
    cdfVersion: Option.getOrUndefined(Option.map(env.cdfVersion, text)),
    attemptTimeout: timeout.right
  })
}

/** `COGNITE_TIMEOUT`: a duration as Effect writes it (`30 seconds`, `500 millis`) or a number of milliseconds. */
const durationMillis = (input: string): number | undefined => {
  const millis = /^\d+(\.\d+)?$/.test(input)
    ? Number(input)
    : Option.getOrUndefined(Option.map(Duration.decodeUnknown(input), Duration.toMillis))
  return millis !== undefined && Number.isFinite(millis) && millis > 0 ? millis : undefined
}

const FLOWS = ["client_credentials", "token"] as const
const PROVIDERS = ["entra_id", "auth0", "other"] as const

const oneOf = <const L extends ReadonlyArray<string>>(
  found: Option.Option<Found>,
  allowed: L,
  fallback: L[number],
  hint: string
): Either.Either<L[number], Issue> => {
  if (Option.isNone(found)) return Either.right(fallback)
  const value = text(found.value).toLowerCase()
  const match = allowed.find((candidate) => candidate === value)
  return match === undefined
    ? Either.left({ path: found.value.name, message: `${found.value.name} must be ${allowed.join(" or ")}${hint}` })
    : Either.right(match)
}

const httpUrl = (found: Found): Either.Either<string, Issue> => {
  try {
    const url = new URL(text(found))
    return url.protocol === "https:" || url.protocol === "http:"
      ? Either.right(url.href)
      : Either.left({ path: found.name, message: `${found.name} must be an http(s) URL` })
  } catch {
    return Either.left({ path: found.name, message: `${found.name} is not a URL` })
  }
}

const TENANT = /^[A-Za-z0-9][A-Za-z0-9.-]*$/

/**
 * The token URL: `COGNITE_TOKEN_URL`, `IDP_TOKEN_URL`, else for Entra ID (`PROVIDER` unset or `entra_id`)
 * `https://login.microsoftonline.com/{IDP_TENANT_ID}/oauth2/v2.0/token`, as the toolkit derives it.
 */
const resolveTokenUrl = (
  env: Raw,
  provider: typeof PROVIDERS[number]
): Either.Either<Option.Option<string>, Issue> => {
  if (Option.isSome(env.tokenUrl)) return Either.map(httpUrl(env.tokenUrl.value), Option.some)
  if (provider === "entra_id" && Option.isSome(env.tenantId)) {
    const tenant = text(env.tenantId.value)
    return TENANT.test(tenant)
      ? Either.right(Option.some(`https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`))
      : Either.left({ path: "IDP_TENANT_ID", message: "IDP_TENANT_ID must be a tenant id or a domain name" })
  }
  return Either.right(Option.none())
}

/** The scopes: `COGNITE_SCOPES` or `IDP_SCOPES` (space or comma separated), else the toolkit's defaults. */
const resolveScopes = (
  env: Raw,
  provider: typeof PROVIDERS[number],
  baseUrl: Option.Option<string>
): ReadonlyArray<string> =>
  Option.match(env.scopes, {
    onSome: (found) => text(found).split(/[\s,]+/).filter((scope) => scope.length > 0),
    onNone: () =>
      provider === "auth0"
        ? ["IDENTITY", "ADMIN", "user_impersonation"]
        : Option.match(baseUrl, { onNone: () => [], onSome: (url) => [`${url}/.default`] })
  })

/** Auth from what was read: a token, or client credentials; `Left` lists every problem. */
export const resolveAuth = (env: Raw): Either.Either<EnvAuth, ConfigError.ConfigError> => {
  const provider = oneOf(env.provider, PROVIDERS, "entra_id", "")
  const flow = oneOf(
    env.loginFlow,
    FLOWS,
    Option.isSome(env.token) ? "token" : "client_credentials",
    " (effect-cdf has no interactive or device-code login: use a token or client credentials)"
  )
  if (Either.isLeft(provider) || Either.isLeft(flow)) return Either.left(fail(issues([provider, flow])))
  if (flow.right === "token") {
    return Option.match(env.token, {
      onNone: () =>
        Either.left(fail([{
          path: "COGNITE_TOKEN",
          message: `the token is not set: LOGIN_FLOW=token needs ${spell("token")}`
        }])),
      onSome: (found) => Either.right({ _tag: "Token" as const, token: found.value })
    })
  }
  const tokenUrl = resolveTokenUrl(env, provider.right)
  const missing = [
    Option.isNone(env.clientId) ? spell("clientId") : undefined,
    Option.isNone(env.clientSecret) ? spell("clientSecret") : undefined,
    Either.isRight(tokenUrl) && Option.isNone(tokenUrl.right)
      ? provider.right === "entra_id" ? `${spell("tokenUrl")} or IDP_TENANT_ID` : spell("tokenUrl")
      : undefined
  ].filter((name): name is string => name !== undefined)
  if (missing.length === 3) {
    return Either.left(fail([{
      path: "COGNITE_TOKEN",
      message: `no credentials are set: set ${spell("token")}, or the client credentials ${spell("clientId")}, ${
        spell("clientSecret")
      } and ${spell("tokenUrl")} or IDP_TENANT_ID for Entra ID`
    }]))
  }
  const problems = [
    ...issues([tokenUrl]),
    ...(missing.length > 0
      ? [{
        path: "COGNITE_CLIENT_ID",
        message: `client credentials are incomplete: ${missing.join(" and ")} is not set`
      }]
      : [])
  ]
  if (
    problems.length > 0 || Either.isLeft(tokenUrl) || Option.isNone(tokenUrl.right) || Option.isNone(env.clientId) ||
    Option.isNone(env.clientSecret)
  ) {
    return Either.left(fail(problems))
  }
  const baseUrl = Either.getRight(resolveBaseUrl(env))
  const audience = Option.orElse(
    Option.map(env.audience, text),
    () => (provider.right === "entra_id" ? Option.none() : baseUrl)
  )
  const settings: ClientCredentials = {
    clientId: text(env.clientId.value),
    clientSecret: env.clientSecret.value.value,
    tokenUrl: tokenUrl.right.value,
    scopes: resolveScopes(env, provider.right, baseUrl),
    ...(Option.isSome(audience) ? { extraParameters: { audience: audience.value } } : {})
  }
  return Either.right({ _tag: "ClientCredentials" as const, settings })
}

/** The client credentials sessions are created with: both the client id and the secret, when set. */
export const sessionCredentials = (
  env: Raw
): Option.Option<{ readonly clientId: string; readonly clientSecret: Redacted.Redacted<string> }> =>
  Option.isSome(env.clientId) && Option.isSome(env.clientSecret)
    ? Option.some({ clientId: text(env.clientId.value), clientSecret: env.clientSecret.value.value })
    : Option.none()
