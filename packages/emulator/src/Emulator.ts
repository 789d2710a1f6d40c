/**
 * The Cognite Functions emulator as a `Layer`: an HTTP server on 127.0.0.1 serving one project's
 * Functions API, with real handlers, schedules, fault injection and optional persistence. Everything it
 * starts (server, sockets, call and schedule fibers, workers, processes) stops when its scope closes.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-cdf/emulator"
 * import { Effect, Redacted } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const emulator = yield* Emulator.Emulator
 *   console.log(emulator.baseUrl, emulator.project, Redacted.value(emulator.token))
 * })
 * Effect.runPromise(Effect.provide(program, Emulator.layer({ project: "playground" })))
 * ```
 *
 * @since 0.1.0
 */
import type { CogniteFunction, FunctionsLimits } from "@effect-cdf/core"
import { HttpClient, HttpMiddleware, HttpServerRequest } from "@effect/platform"
import type { HttpServerError } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Duration, Effect, Layer, Redacted, Schema } from "effect"
import type { Scope } from "effect"
import { createServer, type Server } from "node:http"
import * as Executor from "./Executor.js"
import * as Faults from "./Faults.js"
import * as Runtime from "./HandlerRuntime.js"
import { Connection, nodeConnection } from "./internal/connection.js"
import { makeClient } from "./internal/inMemory.js"
import * as Limits from "./Limits.js"
import * as Persistence from "./Persistence.js"
import * as Routes from "./Routes.js"
import { storeEmptyFile } from "./routes/Files.js"
import { decodeFunctionWrite, storeFunction } from "./routes/Functions.js"
import * as Scheduler from "./Scheduler.js"
import * as ServerApp from "./Server.js"
import * as State from "./State.js"
import * as Tokens from "./Tokens.js"

/** How to start an emulator. Every field is optional. */
export interface EmulatorOptions {
  /** The port to listen on; 0 (the default) picks a free one. */
  readonly port?: number | undefined
  /** The address to bind; default `127.0.0.1`. */
  readonly host?: string | undefined
  /** The project name in `/api/v1/projects/{project}`; default `playground`. */
  readonly project?: string | undefined
  /** The dev token (always valid); random by default, or the one saved in `dataDir`. */
  readonly token?: string | undefined
  /** The client id `/oauth2/token` and client-credential sessions accept; default `emulator-client`. */
  readonly clientId?: string | undefined
  /** The client secret `/oauth2/token` accepts; default `emulator-secret`. */
  readonly clientSecret?: string | undefined
  /** How long tokens from `/oauth2/token` live, in seconds; default 3600. */
  readonly tokenTtlSeconds?: number | undefined
  /** How long a session's nonce can be bound, in seconds; default 60. */
  readonly nonceTtlSeconds?: number | undefined
  /** The limits to enforce and report (see `Limits.defaults`). */
  readonly limits?: Partial<Limits.Limits> | undefined
  /** The activation status at start; default `activated`. */
  readonly activation?: "inactive" | "requested" | "activated" | undefined
  /** How long a requested activation takes, in ms; default 0 (activated at the next status read). */
  readonly activationDelayMillis?: number | undefined
  /** A pause before `Deploying` and another before `Ready`, in ms; default 0. */
  readonly deployDelayMillis?: number | undefined
  /** Capabilities the caller lacks: their endpoints answer 403. */
  readonly disabledCapabilities?: ReadonlyArray<Routes.Capability> | undefined
  /** Fault rules active from the start. */
  readonly faults?: typeof Faults.FaultPlan.Encoded | undefined
  /** A directory to persist state in; state survives a restart with the same directory. */
  readonly dataDir?: string | undefined
  /** The largest request body, in bytes; default 64 MiB. */
  readonly maxBodyBytes?: number | undefined
  /** Options of the handler runtime (used by `layer`). */
  readonly runtime?: Runtime.HandlerRuntime.Options | undefined
}

/** What a function deployed with `deployHandler` has besides its name. */
export interface DeployHandlerOptions {
  readonly externalId?: string | undefined
  readonly description?: string | undefined
  readonly metadata?: Readonly<Record<string, string>> | undefined
  readonly envVars?: Readonly<Record<string, string>> | undefined
  readonly secrets?: Readonly<Record<string, string>> | undefined
}

/** The default project name. */
export const DEFAULT_PROJECT = "playground"

/** A running emulator. */
export class Emulator extends Context.Tag("@effect-cdf/emulator/Emulator")<Emulator, Emulator.Service>() {}

/** A running emulator's service. */
export declare namespace Emulator {
  /** A running emulator's service. */
  export interface Service {
    /** Where clients reach it, e.g. `http://127.0.0.1:41234` (no trailing slash). */
    readonly baseUrl: string
    /** The port it listens on. */
    readonly port: number
    /** The project it serves. */
    readonly project: string
    /** The dev token: a bearer token that is always valid. */
    readonly token: Redacted.Redacted<string>
    /** The client id of the token endpoint. */
    readonly clientId: string
    /** The limits it enforces. */
    readonly limits: Limits.Limits
    /** Registers a handler run in-process; deploy it with `functionPath: "inprocess:NAME"`. */
    readonly registerHandler: (name: string, handler: Runtime.InProcessHandler) => Effect.Effect<void>
    /**
     * Registers an in-process handler and deploys a function named `name` that runs it (no zip: the
     * SDK's `deploy` only takes Python bundles); gives the function once it is `Ready`.
     */
    readonly deployHandler: (
      name: string,
      handler: Runtime.InProcessHandler,
      options?: DeployHandlerOptions
    ) => Effect.Effect<CogniteFunction.CogniteFunction>
    /** Replaces the fault rules. */
    readonly setFaults: (plan: typeof Faults.FaultPlan.Encoded) => Effect.Effect<void>
    /** Removes every fault rule. */
    readonly clearFaults: Effect.Effect<void>
    /** The fault rules with how often each matched and fired. */
    readonly faultStats: Effect.Effect<ReadonlyArray<Faults.RuleStats>>
    /** How many times a function's handler was run (0 when never). */
    readonly executions: (functionId: number) => Effect.Effect<number>
    /** Moves the emulator's clock forward, firing the schedules that fall due. */
    readonly advance: (duration: Duration.DurationInput) => Effect.Effect<void>
    /** The emulator's current time in epoch milliseconds. */
    readonly now: Effect.Effect<number>
    /** Writes the state to `dataDir` now (a no-op without one). */
    readonly persist: Effect.Effect<void, Persistence.PersistenceError>
  }
}

/** Why an emulator could not start. */
export type StartError = HttpServerError.ServeError | Persistence.PersistenceError

/** The origin the in-memory emulator answers at (no socket listens there). */
export const IN_MEMORY_BASE_URL = "http://localhost"

const maxBodyBytesOf = (options: EmulatorOptions) => options.maxBodyBytes ?? 64 * 1024 * 1024

/** How often progress made by running calls (logs, outcomes) is written when nobody asked for it yet. */
const BACKGROUND_FLUSH_MILLIS = 100

/**
 * The emulator's services as one layer: state (restored from `dataDir`), persistence, tokens, faults,
 * the executor, the scheduler and the routes' configuration at `baseUrl`.
 */
const services = (options: EmulatorOptions, baseUrl: string) => {
  const state = State.layerWith(options.activation ?? "activated")
  const persistence = Persistence.layer(options.dataDir)
  const tokens = Layer.unwrapEffect(Effect.map(Persistence.Persistence, (saved) =>
    Tokens.layer({
      devToken: options.token ?? saved.savedToken,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      tokenTtlSeconds: options.tokenTtlSeconds
    })))
  const faults = Layer.unwrapEffect(
    options.faults === undefined
      ? Effect.succeed(Faults.layer())
      : Effect.map(Effect.orDie(Schema.decodeUnknown(Faults.FaultPlan)(options.faults)), Faults.layer)
  )
  const limits = Limits.resolve(options.limits)
  const config = Layer.succeed(Routes.RoutesConfig, {
    project: options.project ?? DEFAULT_PROJECT,
    limits,
    nonceTtlSeconds: options.nonceTtlSeconds ?? 60,
    activationDelayMillis: options.activationDelayMillis ?? 0,
    disabledCapabilities: new Set(options.disabledCapabilities ?? []),
    baseUrl
  })
  const execution = Scheduler.layer.pipe(
    Layer.provideMerge(Executor.layer({ limits, deployDelayMillis: options.deployDelayMillis }))
  )
  return Layer.mergeAll(config, faults, execution, tokens).pipe(
    Layer.provideMerge(persistence),
    Layer.provideMerge(state)
  )
}

/** The emulator's service and HTTP app, at `baseUrl`, in the current scope. */
const makeCore = (options: EmulatorOptions, baseUrl: string, port: number) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(services(options, baseUrl))
    return yield* Effect.gen(function*() {
      const { now, store } = yield* State.State
      const persistence = yield* Persistence.Persistence
      const tokens = yield* Tokens.Tokens
      const faults = yield* Faults.Faults
      const executor = yield* Executor.Executor
      const scheduler = yield* Scheduler.Scheduler
      const runtime = yield* Runtime.HandlerRuntime
      const { limits, project } = yield* Routes.RoutesConfig
      // The journal is compacted with the dev token in force.
      yield* persistence.setDevToken(Redacted.value(tokens.devToken))
      const app = yield* ServerApp.make({ project, maxBodyBytes: maxBodyBytesOf(options) })

      // Restored functions get their handlers prepared again before the emulator is handed out, so a call
      // right after a restart finds them Ready; restored schedules start firing again.
      yield* Effect.forEach(
        [...store.functions].filter(([, stored]) => Persistence.needsRedeploy(stored.fn)).map(([id]) => id),
        (id) => executor.restore(id),
        { concurrency: 4, discard: true }
      )
      for (const id of store.schedules.keys()) yield* scheduler.start(id)
      if (options.dataDir !== undefined) {
        yield* persistence.flush.pipe(
          Effect.ignoreLogged,
          Effect.delay(BACKGROUND_FLUSH_MILLIS),
          Effect.forever,
          Effect.forkScoped
        )
      }

      const service: Emulator.Service = {
        baseUrl,
        port,
        project,
        token: tokens.devToken,
        clientId: tokens.clientId,
        limits,
        registerHandler: (name, handler) => runtime.registerInProcess(name, handler),
        deployHandler: (name, handler, deploy = {}) =>
          Effect.gen(function*() {
            yield* runtime.registerInProcess(name, handler)
            const fileId = yield* storeEmptyFile(`${name}.inprocess`)
            const write = yield* decodeFunctionWrite({
              name,
              fileId,
              functionPath: `inprocess:${name}`,
              ...Object.fromEntries(Object.entries(deploy).filter(([, value]) => value !== undefined))
            }).pipe(Effect.orDieWith((failure) => new Error(`deployHandler(${name}): ${failure.message}`)))
            return yield* storeFunction({
              ...write,
              runtime: "py313",
              cpu: limits.cpuCores.default,
              memory: limits.memoryGb.default
            }, true)
          }).pipe(Effect.provide(context)),
        setFaults: (plan) =>
          Schema.decodeUnknown(Faults.FaultPlan)(plan).pipe(Effect.orDie, Effect.flatMap(faults.set)),
        clearFaults: faults.clear,
        faultStats: faults.stats,
        executions: (functionId) => Effect.sync(() => store.executions.get(functionId) ?? 0),
        advance: (duration) => scheduler.advance(Duration.toMillis(Duration.decode(duration))),
        now,
        persist: persistence.flush
      }
      return { service, app: Effect.provide(app, Context.add(context, Runtime.HandlerRuntime, runtime)) }
    }).pipe(Effect.provide(context))
  })

/** Starts an emulator on a socket in the current scope, using the `HandlerRuntime` in context. */
export const make = (
  options: EmulatorOptions = {}
): Effect.Effect<Emulator.Service, StartError, Runtime.HandlerRuntime | Scope.Scope> =>
  Effect.gen(function*() {
    const host = options.host ?? "127.0.0.1"
    let nodeServer: Server | undefined
    const server = yield* NodeHttpServer.make(() => {
      nodeServer = createServer({ keepAliveTimeout: 5_000 })
      return nodeServer
    }, { port: options.port ?? 0, host })
    // Runs before the server's own close: drop every connection, so close does not wait on keep-alives
    // or on requests blocked waiting for a call.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer?.closeAllConnections()))
    const address = server.address
    const port = address._tag === "TcpAddress" ? address.port : 0
    const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host
    const { app, service } = yield* makeCore(options, `http://${urlHost}:${port}`, port)
    yield* server.serve(
      Effect.flatMap(
        HttpServerRequest.HttpServerRequest,
        (request) => Effect.provideService(app, Connection, nodeConnection(request))
      )
    ).pipe(
      // No server span per request: the spans worth having are the client's; this one cost the most.
      Effect.locally(HttpMiddleware.currentTracerDisabledWhen, () => true)
    )
    return service
  })

/**
 * Starts an emulator with no socket in the current scope: its `HttpClient` hands each request to the
 * emulator's HTTP app on the caller's fiber, at `IN_MEMORY_BASE_URL`.
 */
export const makeInMemory = (
  options: EmulatorOptions = {}
): Effect.Effect<
  { readonly emulator: Emulator.Service; readonly client: HttpClient.HttpClient },
  StartError,
  Runtime.HandlerRuntime | Scope.Scope
> =>
  Effect.gen(function*() {
    const { app, service } = yield* makeCore(options, IN_MEMORY_BASE_URL, 0)
    const client = makeClient(
      (request, connection) =>
        app.pipe(
          Effect.provideService(HttpServerRequest.HttpServerRequest, request),
          Effect.provideService(Connection, connection)
        ),
      IN_MEMORY_BASE_URL
    )
    return { emulator: service, client }
  })

/** An emulator using the `HandlerRuntime` in context (e.g. a fake one in tests). */
export const layerWithoutRuntime = (
  options: EmulatorOptions = {}
): Layer.Layer<Emulator, StartError, Runtime.HandlerRuntime> => Layer.scoped(Emulator, make(options))

/** An emulator with the real handler runtime (JavaScript workers, Python processes, in-process handlers). */
export const layer = (options: EmulatorOptions = {}): Layer.Layer<Emulator, StartError> =>
  layerWithoutRuntime(options).pipe(Layer.provide(Runtime.layerWith(options.runtime ?? {})))

/** Options of the in-memory emulator: those of `layer`, and handlers registered before it is handed out. */
export interface InMemoryOptions extends Omit<EmulatorOptions, "port" | "host"> {
  /** In-process handlers by name; deploy them with `functionPath: "inprocess:NAME"`. */
  readonly handlers?: Readonly<Record<string, Runtime.InProcessHandler>> | undefined
}

/**
 * The emulator served in memory, with the `HttpClient` that reaches it: no socket, and every request
 * runs on the caller's fiber, so under `TestClock` the emulator's time, schedules and call timeouts
 * follow the test's clock. Authenticate with the dev token (`Emulator.token`) and use
 * `Emulator.baseUrl` (`IN_MEMORY_BASE_URL`) as the base URL.
 */
export const layerInMemory = (
  options: InMemoryOptions = {}
): Layer.Layer<Emulator | HttpClient.HttpClient, StartError> =>
  Layer.scopedContext(Effect.gen(function*() {
    const { client, emulator } = yield* makeInMemory(options)
    for (const [name, handler] of Object.entries(options.handlers ?? {})) {
      yield* emulator.registerHandler(name, handler)
    }
    return Context.make(Emulator, emulator).pipe(Context.add(HttpClient.HttpClient, client))
  })).pipe(Layer.provide(Runtime.layerWith(options.runtime ?? {})))

/** The activation statuses an emulator can start in. */
export type ActivationStatus = FunctionsLimits.ActivationStatus
