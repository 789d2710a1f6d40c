/**
 * `/functions`: create, list, retrieve and delete functions, the project's limits and activation
 * status. A function's calls live in `Calls.ts`, its schedules in `Schedules.ts`.
 *
 * @since 0.1.0
 */
import { CogniteFunction, FunctionsLimits, Ids, Items } from "@effect-cdf/core"
import { HttpRouter } from "@effect/platform"
import { Effect, Redacted, Schema } from "effect"
import { Executor, IN_PROCESS_PREFIX } from "../Executor.js"
import { HandlerRuntime } from "../HandlerRuntime.js"
import { badRequest, decodeBody, decodeValue, duplicated, encoded } from "../internal/http.js"
import { Scheduler } from "../Scheduler.js"
import { State, type Store, type StoredFunction } from "../State.js"
import {
  activationStatus,
  inRange,
  limitParam,
  matchesWhereGiven,
  oldestFirst,
  pathFunction,
  readOne,
  refOf,
  requires,
  requiresActivated,
  resolveItems,
  RoutesConfig,
  withBody,
  withStore
} from "./common.js"

/**
 * The emulator also runs JavaScript handlers and in-process ones, so its `functionPath` accepts `.js`,
 * `.mjs`, `.cjs` and `inprocess:NAME` besides CDF's `.py`.
 */
const EmulatorFunctionPath = Schema.String.pipe(
  Schema.minLength(1),
  Schema.maxLength(500, { message: () => "functionPath is at most 500 characters" }),
  Schema.filter((path) => {
    if (path.startsWith(IN_PROCESS_PREFIX)) return path.length > IN_PROCESS_PREFIX.length || "inprocess: needs a name"
    if (path.includes("\\")) return "functionPath is a POSIX path: use / not \\"
    if (path.startsWith("/")) return "functionPath is relative to the root of the zip"
    if (path.split("/").some((part) => part === ".." || part === "")) return "functionPath has an empty or .. segment"
    return /\.(py|js|mjs|cjs)$/.test(path) || "functionPath names a .py (or, in the emulator, .js) file"
  })
)

const FunctionCreate = Schema.Struct({
  ...CogniteFunction.FunctionWrite.fields,
  functionPath: Schema.optionalWith(EmulatorFunctionPath, { exact: true })
})
const FunctionCreateRequest = Items.ItemsRequest(FunctionCreate, Items.ItemLimits.create)
/** A list of functions. */
export const FunctionList = Items.Items(CogniteFunction.CogniteFunction)

const runtimeVersion = (runtime: string, path: string) =>
  path.startsWith(IN_PROCESS_PREFIX)
    ? "In-process (emulator)"
    : /\.(js|mjs|cjs)$/.test(path)
    ? `Node.js ${process.versions.node} (emulator)`
    : `Python ${runtime.slice(2, 3)}.${runtime.slice(3)} (emulator)`

/** What a stored function is made of: a checked write with its runtime, cpu and memory resolved. */
export type FunctionInput = Omit<typeof FunctionCreate.Type, "runtime" | "cpu" | "memory"> & {
  readonly runtime: NonNullable<typeof FunctionCreate.Type["runtime"]>
  readonly cpu: number
  readonly memory: number
}

/** Checks a function's fields as `POST /functions` does (`functionPath` may name an in-process handler). */
export const decodeFunctionWrite = (raw: unknown) => decodeValue(FunctionCreate, raw, "function")

/** Stores a new function (`Queued`) and deploys it: in the background, or before returning with `inline`. */
export const storeFunction = (write: FunctionInput, inline = false) =>
  Effect.gen(function*() {
    const { now, store } = yield* State
    const t = yield* now
    const id = store.newId(store.functions)
    const functionPath = write.functionPath ?? "handler.py"
    const secrets: Record<string, string> = {}
    for (const [k, v] of Object.entries(write.secrets ?? {})) secrets[k] = Redacted.value(v)
    const fn = new CogniteFunction.CogniteFunction({
      id: Ids.FunctionId.make(id),
      createdTime: Ids.EpochMillis.make(t),
      status: "Queued",
      name: write.name,
      fileId: write.fileId,
      functionPath,
      cpu: write.cpu,
      memory: write.memory,
      runtime: write.runtime,
      runtimeVersion: runtimeVersion(write.runtime, functionPath),
      ...(write.externalId === undefined ? {} : { externalId: write.externalId }),
      ...(write.owner === undefined ? {} : { owner: write.owner }),
      ...(write.description === undefined ? {} : { description: write.description }),
      ...(write.metadata === undefined ? {} : { metadata: write.metadata }),
      ...(write.envVars === undefined ? {} : { envVars: write.envVars }),
      ...(write.secrets === undefined ? {} : {
        secrets: Object.fromEntries(Object.keys(secrets).map((k) => [k, "***"]))
      })
    })
    store.functions.set(id, { fn, secrets, handler: undefined })
    store.touch("function", id)
    const executor = yield* Executor
    if (!inline) {
      yield* executor.deploy(id)
      return fn
    }
    yield* executor.restore(id)
    return store.functions.get(id)?.fn ?? fn
  })

const createFunction = Effect.gen(function*() {
  yield* requiresActivated("functionsAcl:WRITE")
  const { store } = yield* State
  const { limits } = yield* RoutesConfig
  const body = yield* decodeBody(FunctionCreateRequest)
  const write = body.items[0]
  if (store.functions.size >= limits.maxFunctions) {
    return yield* Effect.fail(
      badRequest(`The project already has ${limits.maxFunctions} functions, the most it may have`)
    )
  }
  if (write.externalId !== undefined && store.functionByExternalId(write.externalId) !== undefined) {
    return yield* Effect.fail(duplicated([{ externalId: write.externalId }]))
  }
  const file = store.files.get(write.fileId)
  if (file === undefined) return yield* Effect.fail(badRequest(`File ${write.fileId} not found`))
  if (file.bytes === undefined) return yield* Effect.fail(badRequest(`File ${write.fileId} has not been uploaded yet`))
  const runtime = write.runtime ?? "py313"
  if (!limits.runtimes.includes(runtime)) {
    return yield* Effect.fail(
      badRequest(`Runtime ${runtime} is not available; the runtimes are ${limits.runtimes.join(", ")}`)
    )
  }
  const cpu = write.cpu ?? limits.cpuCores.default
  const memory = write.memory ?? limits.memoryGb.default
  if (cpu < limits.cpuCores.min || cpu > limits.cpuCores.max) {
    return yield* Effect.fail(badRequest(`cpu must be in ${limits.cpuCores.min}..${limits.cpuCores.max}`))
  }
  if (memory < limits.memoryGb.min || memory > limits.memoryGb.max) {
    return yield* Effect.fail(badRequest(`memory must be in ${limits.memoryGb.min}..${limits.memoryGb.max}`))
  }
  const fn = yield* storeFunction({ ...write, runtime, cpu, memory })
  return encoded(FunctionList, { items: [fn] }, 201)
})

const listFunctions = (filter: CogniteFunction.FunctionFilter | undefined, limit: number | undefined) =>
  withStore("functionsAcl:READ", (store) => {
    const items = oldestFirst(
      [...store.functions.values()]
        .map((f) => f.fn)
        .filter((fn) =>
          filter === undefined ||
          (matchesWhereGiven(filter, fn, ["name", "owner", "fileId", "status"]) &&
            (filter.externalIdPrefix === undefined || (fn.externalId ?? "").startsWith(filter.externalIdPrefix)) &&
            inRange(fn.createdTime, filter.createdTime) &&
            Object.entries(filter.metadata ?? {}).every(([k, v]) => fn.metadata?.[k] === v))
        ),
      limit
    )
    return Effect.succeed(encoded(FunctionList, { items }))
  })

/** The functions named by ids and external ids (each once); unknown ones are `missing` unless ignored. */
const resolveFunctions = (store: Store, body: typeof Items.FunctionIdentifiersRequest.Type) =>
  Effect.map(
    resolveItems(
      body.items,
      (identifier) =>
        "id" in identifier ? store.functions.get(identifier.id) : store.functionByExternalId(identifier.externalId),
      // The real service spells an unknown external id `external_id` here.
      (identifier) => "id" in identifier ? refOf(identifier) : { external_id: identifier.externalId },
      "functions",
      body.ignoreUnknownIds ?? false
    ),
    (found) => [...new Set(found)]
  )

/** Deletes a function with its calls and schedules, and releases its prepared handler. */
const deleteFunction = (stored: StoredFunction) =>
  Effect.gen(function*() {
    const { store } = yield* State
    const scheduler = yield* Scheduler
    const runtime = yield* HandlerRuntime
    const id = stored.fn.id
    store.functions.delete(id)
    store.touch("function", id)
    if (stored.handler !== undefined) yield* runtime.release(stored.handler)
    for (const [callId, c] of store.calls) {
      if (c.call.functionId === id) {
        store.calls.delete(callId)
        store.touch("call", callId)
      }
    }
    for (const [scheduleId, s] of store.schedules) {
      if (s.schedule.functionId === id) {
        store.schedules.delete(scheduleId)
        store.touch("schedule", scheduleId)
        yield* scheduler.stop(scheduleId)
      }
    }
  })

const activationBody = (status: FunctionsLimits.ActivationStatus) => new FunctionsLimits.FunctionsStatus({ status })

/** The routes of `/functions` itself (one function's calls are in `Calls.router`). */
export const router = HttpRouter.empty.pipe(
  HttpRouter.post("/functions", createFunction),
  HttpRouter.get("/functions", Effect.flatMap(limitParam, (limit) => listFunctions(undefined, limit))),
  HttpRouter.post(
    "/functions/list",
    Effect.flatMap(decodeBody(CogniteFunction.FunctionListRequest), (body) => listFunctions(body.filter, body.limit))
  ),
  HttpRouter.post(
    "/functions/byids",
    withBody(
      "functionsAcl:READ",
      Items.FunctionIdentifiersRequest,
      (body, store) =>
        Effect.map(resolveFunctions(store, body), (found) => encoded(FunctionList, { items: found.map((f) => f.fn) }))
    )
  ),
  HttpRouter.post(
    "/functions/delete",
    withBody("functionsAcl:WRITE", Items.FunctionIdentifiersRequest, (body, store) =>
      Effect.as(
        Effect.flatMap(resolveFunctions(store, body), (found) =>
          Effect.forEach(found, deleteFunction, { discard: true })),
        encoded(Items.EmptyResponse, {})
      ))
  ),
  HttpRouter.get(
    "/functions/limits",
    Effect.gen(function*() {
      yield* requires("functionsAcl:READ")
      const { limits } = yield* RoutesConfig
      return encoded(
        FunctionsLimits.FunctionsLimits,
        new FunctionsLimits.FunctionsLimits({
          timeoutMinutes: limits.timeoutMinutes,
          cpuCores: limits.cpuCores,
          memoryGb: limits.memoryGb,
          runtimes: limits.runtimes,
          responseSizeMb: limits.responseSizeMb
        })
      )
    })
  ),
  HttpRouter.get(
    "/functions/status",
    Effect.gen(function*() {
      yield* requires("functionsAcl:READ")
      return encoded(FunctionsLimits.FunctionsStatus, activationBody(yield* activationStatus))
    })
  ),
  HttpRouter.post(
    "/functions/status",
    Effect.gen(function*() {
      yield* requires("functionsAcl:WRITE")
      const { now, store } = yield* State
      if (store.activation === "inactive") {
        store.activation = "requested"
        store.activationRequestedAt = yield* now
        store.touch("meta")
      }
      return encoded(FunctionsLimits.FunctionsStatus, activationBody(store.activation), 202)
    })
  ),
  HttpRouter.get(
    "/functions/:functionId",
    readOne("functionsAcl:READ", pathFunction, (stored) => encoded(CogniteFunction.CogniteFunction, stored.fn))
  )
)
