/**
 * Where the client sends requests and how: base URL or cluster, project, headers, timeouts and the retry
 * policy. `fromEnv` reads the same settings from the environment (`COGNITE_*` or the toolkit's `CDF_*`).
 *
 * @since 0.1.0
 */
import { Config, ConfigError, Duration, Either } from "effect"
import * as Env from "./internal/env.js"
import * as Retry from "./Retry.js"

/** The version this SDK reports in `x-cdp-sdk`. */
export const SDK_VERSION = "0.1.0"

/** The `cdf-version` header sent unless a request overrides it. */
export const DEFAULT_CDF_VERSION = "20230101"

/** The per-attempt timeout unless configured: 60 s, as the Python SDK. */
export const DEFAULT_ATTEMPT_TIMEOUT: Duration.Duration = Duration.seconds(60)

/**
 * The total time one request may take unless it says otherwise (attempts, token waits and retry waits
 * together): 3 min, and never less than the attempt timeout.
 */
export const DEFAULT_DEADLINE: Duration.Duration = Duration.minutes(3)

/** JSON bodies larger than this many bytes are gzip-compressed: 1 KiB. */
export const DEFAULT_GZIP_THRESHOLD_BYTES = 1024

/** The options of a client. Give `baseUrl` or `cluster`. */
export interface Options {
  /** The API's origin, for example `https://api.cognitedata.com`. Wins over `cluster`. */
  readonly baseUrl?: string | undefined
  /** A cluster name such as `westeurope-1`, giving `https://{cluster}.cognitedata.com`. */
  readonly cluster?: string | undefined
  /** The CDF project every path is relative to. */
  readonly project: string
  /** Your application's name, sent as `x-cdp-app`. Default `effect-cdf-app`. */
  readonly appName?: string | undefined
  /** The `cdf-version` header. Default `20230101`; a request can override it. */
  readonly cdfVersion?: string | undefined
  /** How long one attempt may take, body included. Default 60 s. */
  readonly attemptTimeout?: Duration.DurationInput | undefined
  /**
   * The total time of one request, attempts and waits included, unless the request gives its own
   * `deadline`. Default 3 min (or the attempt timeout, when that is longer).
   */
  readonly deadline?: Duration.DurationInput | undefined
  /** The retry policy; left-out fields keep the defaults of `Retry.defaultPolicy`. */
  readonly retry?: Retry.PolicyInput | undefined
  /** JSON bodies above this many bytes are gzip-compressed. Default 1024. */
  readonly gzipThresholdBytes?: number | undefined
  /**
   * Allow a plain `http:` base URL on a host other than localhost. Off by default: the token would travel
   * in clear text.
   */
  readonly allowInsecureHttp?: boolean | undefined
}

/** The resolved configuration of a client. */
export interface CdfConfig {
  /** The origin every request goes to (scheme, host, port), for example `https://api.cognitedata.com`. */
  readonly origin: string
  /** The base URL without a trailing slash (it may carry a path prefix). */
  readonly baseUrl: string
  /** The project. */
  readonly project: string
  /** `{baseUrl}/api/v1/projects/{project}`: what request paths are relative to. */
  readonly projectUrl: string
  /** The `x-cdp-app` header. */
  readonly appName: string
  /** The `x-cdp-sdk` header, for example `effect-cdf:0.1.0`. */
  readonly sdkHeader: string
  /** The default `cdf-version` header. */
  readonly cdfVersion: string
  /** The per-attempt timeout. */
  readonly attemptTimeout: Duration.Duration
  /** The default total time of one request. */
  readonly deadline: Duration.Duration
  /** The retry policy. */
  readonly retry: Retry.RetryPolicy
  /** The gzip threshold in bytes. */
  readonly gzipThresholdBytes: number
}

const CLUSTER = /^[a-z0-9][a-z0-9-]{0,62}$/
const PROJECT = /^[a-z0-9][a-z0-9-]{0,63}$/i
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"])

/** Checks a base URL: `http(s)`, no credentials, query or fragment; `http` only on loopback unless allowed. */
export const validateBaseUrl = (input: string, allowInsecureHttp = false): Either.Either<string, string> => {
  let url: URL
  try {
    url = new URL(input.trim())
  } catch {
    return Either.left("is not a URL (expected for example https://api.cognitedata.com)")
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return Either.left(`must use https (got ${url.protocol.slice(0, -1)})`)
  }
  if (url.protocol === "http:" && !allowInsecureHttp && !LOOPBACK.has(url.hostname)) {
    return Either.left("must use https: plain http is only allowed for localhost")
  }
  if (url.username !== "" || url.password !== "") return Either.left("must not contain credentials")
  if (url.search !== "" || url.hash !== "") return Either.left("must not have a query or fragment")
  return Either.right(`${url.origin}${url.pathname.replace(/\/+$/, "")}`)
}

/** Checks a cluster name (`api`, `westeurope-1`, ...) and gives its base URL. */
export const clusterUrl = (cluster: string): Either.Either<string, string> =>
  CLUSTER.test(cluster.trim())
    ? Either.right(`https://${cluster.trim()}.cognitedata.com`)
    : Either.left("must be a cluster name such as westeurope-1 (lowercase letters, digits and dashes)")

/** Checks a project name. */
export const validateProject = (project: string): Either.Either<string, string> =>
  PROJECT.test(project.trim())
    ? Either.right(project.trim())
    : Either.left("must be a CDF project name (letters, digits and dashes)")

/** Resolves options; `Left` names the setting at fault and what is wrong with it. */
export const resolve = (
  options: Options
): Either.Either<CdfConfig, { readonly setting: string; readonly issue: string }> => {
  const base = options.baseUrl !== undefined
    ? Either.mapLeft(validateBaseUrl(options.baseUrl, options.allowInsecureHttp ?? false), (issue) => ({
      setting: "baseUrl",
      issue
    }))
    : options.cluster !== undefined
    ? Either.mapLeft(clusterUrl(options.cluster), (issue) => ({ setting: "cluster", issue }))
    : Either.left({ setting: "baseUrl", issue: "give baseUrl or cluster" })
  if (Either.isLeft(base)) return Either.left(base.left)
  const project = validateProject(options.project)
  if (Either.isLeft(project)) return Either.left({ setting: "project", issue: project.left })
  const baseUrl = base.right
  const threshold = options.gzipThresholdBytes
  const attemptTimeout = options.attemptTimeout === undefined
    ? DEFAULT_ATTEMPT_TIMEOUT
    : Duration.millis(Retry.toTimerMillis(options.attemptTimeout))
  return Either.right({
    origin: new URL(baseUrl).origin,
    baseUrl,
    project: project.right,
    projectUrl: `${baseUrl}/api/v1/projects/${encodeURIComponent(project.right)}`,
    appName: options.appName ?? "effect-cdf-app",
    sdkHeader: `effect-cdf:${SDK_VERSION}`,
    cdfVersion: options.cdfVersion ?? DEFAULT_CDF_VERSION,
    attemptTimeout,
    deadline: options.deadline === undefined
      ? Duration.max(DEFAULT_DEADLINE, attemptTimeout)
      : Duration.millis(Retry.toTimerMillis(options.deadline)),
    retry: Retry.makePolicy(options.retry),
    gzipThresholdBytes: threshold === undefined || !Number.isFinite(threshold)
      ? DEFAULT_GZIP_THRESHOLD_BYTES
      : threshold
  })
}

/**
 * The variables read by {@link fromEnv} and `Auth.fromEnv`, in precedence order per setting: `COGNITE_*`
 * before the Cognite toolkit's `CDF_*` / `IDP_*` names (see docs/configuration.md).
 */
export const ENV_VARIABLES: ReadonlyArray<string> = Env.VARIABLES

/** The variables that select a CDF target (every name of {@link ENV_VARIABLES} but the optional tuning ones). */
export const TARGET_ENV_VARIABLES: ReadonlyArray<string> = Env.TARGET_VARIABLES

/**
 * The base URL from `COGNITE_BASE_URL` or `CDF_URL`, or else from `COGNITE_CLUSTER` or `CDF_CLUSTER`; fails
 * naming every spelling when none is set, and naming the one at fault when it is malformed.
 */
export const baseUrlFromEnv: Config.Config<string> = Config.suspend(() =>
  Config.mapOrFail(
    Env.raw,
    (env) => Either.mapLeft(Env.resolveBaseUrl(env), (issue) => ConfigError.MissingData([issue.path], issue.message))
  )
)

/**
 * The client options from the environment: the base URL (`COGNITE_BASE_URL`, `CDF_URL`, `COGNITE_CLUSTER`,
 * `CDF_CLUSTER`), the project (`COGNITE_PROJECT`, `CDF_PROJECT`), and optionally `COGNITE_APP_NAME`,
 * `COGNITE_CDF_VERSION`, `COGNITE_TIMEOUT` (a duration such as `30 seconds`). Every problem is in one error.
 */
export const fromEnv: Config.Config<Options> = Config.suspend(() => Config.mapOrFail(Env.raw, Env.resolveOptions))
