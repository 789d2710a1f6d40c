/**
 * The CDF transport: base URL and project, auth, safe retries, typed errors, pagination and chunking.
 *
 * @since 0.1.0
 */

/** Where bearer tokens come from: a static token, OAuth2 client credentials, or your own Effect. */
export * as Auth from "./Auth.js"
/** The client configuration, and how it is read from the environment. */
export * as CdfConfig from "./CdfConfig.js"
/** The client: `execute`, `executeRaw`, `paginate`, `chunked`, and its layers. */
export * as CdfClient from "./CdfClient.js"
/** The description of a request, and the `path` helper that encodes segments. */
export * as CdfRequest from "./CdfRequest.js"
/** Splitting byids and delete requests to the API's item limits. */
export * as Chunking from "./Chunking.js"
/** Safety classes, backoff, server hints and the retry budget. */
export * as Retry from "./Retry.js"
