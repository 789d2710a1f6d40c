/**
 * The REST API of the emulated project, one router per resource (`routes/Functions.ts`, `Calls.ts`,
 * `Schedules.ts`, `Sessions.ts`, `Files.ts`, `FunctionApps.ts`), on paths relative to
 * `/api/v1/projects/{project}`. Request bodies are decoded with the schemas of `@effect-cdf/core` and
 * responses encoded with them.
 *
 * Precedence is structural: the schedules, sessions, files and Function Apps routers are mounted as
 * apps on their own prefixes, and a mounted app is matched before any route, so `/functions/schedules`
 * can never be captured by `/functions/{functionId}`.
 *
 * @since 0.1.0
 */
import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import * as Calls from "./routes/Calls.js"
import * as Files from "./routes/Files.js"
import * as FunctionApps from "./routes/FunctionApps.js"
import * as Functions from "./routes/Functions.js"
import * as Schedules from "./routes/Schedules.js"
import * as Sessions from "./routes/Sessions.js"

export {
  /** A capability (ACL and action) an endpoint requires. Disabled ones answer 403. */
  type Capability,
  /** The routes' configuration. */
  RoutesConfig,
  /** What the routes need beyond the services. */
  type RoutesOptions
} from "./routes/common.js"

/** Whether a request is the anonymous upload of a file's bytes (authorised by its URL's token instead). */
export const isUpload = Files.isUpload

/** Checks an upload's URL token before its body is read. */
export const authorizeUpload = Files.authorizeUpload

const mountPrefixes: ReadonlyArray<string> = [Schedules.PREFIX, Sessions.PREFIX, Files.PREFIX, FunctionApps.PREFIX]

/**
 * The path the router is given for a relative path: a mount prefix itself gets its trailing slash, so
 * the mounted router sees `/` (the platform slices `/files?x` to `?x`, which no route matches).
 */
export const routedPath = (path: string): string => mountPrefixes.includes(path) ? `${path}/` : path

/** The router of the project API, on paths relative to the project. */
export const make = Effect.gen(function*() {
  const schedules = yield* HttpRouter.toHttpApp(Schedules.router)
  const sessions = yield* HttpRouter.toHttpApp(Sessions.router)
  const files = yield* HttpRouter.toHttpApp(Files.router)
  const functionApps = yield* HttpRouter.toHttpApp(FunctionApps.router)
  return HttpRouter.empty.pipe(
    HttpRouter.mountApp(Schedules.PREFIX, schedules),
    HttpRouter.mountApp(Sessions.PREFIX, sessions),
    HttpRouter.mountApp(Files.PREFIX, files),
    HttpRouter.mountApp(FunctionApps.PREFIX, functionApps),
    HttpRouter.concat(Functions.router),
    HttpRouter.concat(Calls.router)
  )
})
