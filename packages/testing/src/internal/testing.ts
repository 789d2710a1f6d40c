/** The body of the test layer: functions deployed as in-process handlers of the emulator, and the record of calls. */
import { CogniteFunction, Files, FunctionCall, Items } from "@effect-cdf/core"
import { Ids } from "@effect-cdf/core"
import { Emulator } from "@effect-cdf/emulator"
import type { InMemoryOptions } from "@effect-cdf/emulator/Emulator"
import type { InProcessInput } from "@effect-cdf/emulator/Runtime"
import { Calls, CogniteFunctions } from "@effect-cdf/functions"
import type { ReadError } from "@effect-cdf/functions/ServiceError"
import { Auth } from "@effect-cdf/http"
import { CdfClient } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import type { JsonRequest } from "@effect-cdf/http/CdfRequest"
import { Clock, Duration, Effect, Layer, Option, Predicate, Schedule } from "effect"
import type { Handler, Options, RecordedCall, TestFunctions, TestFunctionSpec } from "../Testing.js"

/** The emulator's options for the test layer's: its limits and project. */
export const emulatorOptions = (options: Options): InMemoryOptions => ({
  ...(options.project === undefined ? {} : { project: options.project }),
  limits: {
    ...(options.limits?.timeoutMinutes === undefined ? {} : { timeoutMinutes: options.limits.timeoutMinutes }),
    ...(options.limits?.responseSizeMb === undefined ? {} : { responseSizeMb: options.limits.responseSizeMb })
  }
})

/** The real services over the emulator's in-memory `HttpClient`, authenticated with its dev token. */
export const layerServices = Layer.unwrapEffect(
  Effect.map(
    Emulator.Emulator,
    (emulator) =>
      CogniteFunctions.layer({ baseUrl: emulator.baseUrl, project: emulator.project, appName: "effect-cdf-testing" })
        .pipe(Layer.provide(Auth.layerToken(emulator.token)))
  )
)

/** Where a call of a registered function is: when its duration ends, and whether its handler has returned. */
interface Running {
  readonly endsAt: number
  finished: boolean
}

interface Registered {
  spec: TestFunctionSpec
  readonly functionId: Ids.FunctionId
}

const toSpec = (spec: Handler | TestFunctionSpec): TestFunctionSpec =>
  typeof spec === "function" ? { handler: spec } : spec

const FunctionItems = Items.Items(CogniteFunction.CogniteFunction)

/** How often a wait polls a call whose end the layer cannot foresee (a handler that sleeps by itself). */
const UNFORESEEN = Duration.seconds(1)

/** The call a polled value is, if it is one (the schedule's input is the last value polled). */
const callIdOf = (input: unknown): number | undefined =>
  input instanceof FunctionCall.FunctionCall
    ? input.id
    : Predicate.hasProperty(input, "id") && typeof input.id === "number"
    ? input.id
    : undefined

/** `TestFunctions` over the services and the emulator in context, with the poll schedule that goes with it. */
export const make = (options: Options) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* CdfClient
    const calls = yield* Calls.Calls
    const registered = new Map<string, Registered>()
    const running = new Map<number, Running>()
    const recorded: Array<{ callId: Ids.CallId; functionId: Ids.FunctionId; externalId: string; data: unknown }> = []

    // A call ends at its duration; its last millisecond is slept separately, so that when a wait polls at the
    // same instant the handler (the newer sleep) runs first and the poll sees the call ended.
    const runFor = (externalId: string) => (input: InProcessInput) =>
      Effect.gen(function*() {
        const entry = registered.get(externalId)
        if (entry === undefined) return yield* Effect.die(new Error(`no test function ${externalId}`))
        const callId = Ids.CallId.make(input.functionCallInfo.call_id)
        const functionId = entry.functionId
        const millis = Math.max(0, Duration.toMillis(Duration.decode(entry.spec.duration ?? 0)))
        const timeout = emulator.limits.callTimeoutMillis
        // the emulator ends a call at its timeout, in a sleep older than any wait's: a wait sees it 1 ms later
        const endsIn = millis < timeout ? millis : timeout + 1
        const state: Running = { endsAt: (yield* Clock.currentTimeMillis) + endsIn, finished: false }
        running.set(callId, state)
        recorded.push({ callId, functionId, externalId, data: input.data })
        if (millis > 1) yield* Effect.sleep(Duration.millis(millis - 1))
        if (millis > 0) yield* Effect.sleep(Duration.millis(Math.min(1, millis)))
        return yield* entry.spec.handler(input.data, {
          functionId,
          callId,
          secrets: input.secrets,
          log: (message) => Effect.sync(() => input.log(message))
        }).pipe(Effect.ensuring(Effect.sync(() => {
          state.finished = true
        })))
      })

    // the emulator's own API, which answers a well-formed request: a failure here is a defect of the layer
    const execute = <A, I>(request: JsonRequest<A, I>) => client.execute(request).pipe(Effect.orDie)

    /** Creates the function in the emulator through its API: an empty zip, and `inprocess:NAME` as the path. */
    const create = Effect.fnUntraced(function*(externalId: string, spec: TestFunctionSpec) {
      const ticket = yield* execute({
        operation: "testing.Files.create",
        method: "POST",
        path: path`/files`,
        safety: "unsafe",
        body: { name: `${externalId}.zip` },
        schema: Files.FileUploadTicket
      })
      yield* client.executeRaw({
        operation: "testing.Files.upload",
        method: "PUT",
        url: ticket.uploadUrl,
        safety: "safe",
        bytes: { data: new Uint8Array(), contentType: "application/zip" }
      }).pipe(Effect.orDie)
      const created = yield* execute({
        operation: "testing.Functions.create",
        method: "POST",
        path: path`/functions`,
        safety: "unsafe",
        body: {
          items: [{
            name: spec.name ?? externalId,
            externalId,
            fileId: ticket.id,
            functionPath: `inprocess:${externalId}`,
            ...(spec.secrets === undefined ? {} : { secrets: spec.secrets })
          }]
        },
        schema: FunctionItems
      })
      const fn = created.items[0]
      if (fn === undefined) return yield* Effect.die(new Error("the emulator created no function"))
      // the emulator prepares an in-process handler in a fiber of its own, with no sleep: yielding lets it finish
      for (let attempt = 0; attempt < 1_000; attempt++) {
        const current = yield* execute({
          operation: "testing.Functions.retrieve",
          method: "GET",
          path: path`/functions/${fn.id}`,
          safety: "safe",
          schema: CogniteFunction.CogniteFunction
        })
        if (current.status === "Ready") return current.id
        if (current.status === "Failed") {
          return yield* Effect.die(new Error(`test function ${externalId} failed to deploy: ${current.error?.message}`))
        }
        yield* Effect.yieldNow()
      }
      return yield* Effect.die(new Error(`test function ${externalId} was not Ready`))
    })

    const register = (externalId: string, given: Handler | TestFunctionSpec) =>
      Effect.gen(function*() {
        const spec = toSpec(given)
        const known = registered.get(externalId)
        if (known !== undefined) {
          known.spec = spec
          return known.functionId
        }
        yield* emulator.registerHandler(externalId, runFor(externalId))
        const functionId = yield* create(externalId, spec)
        registered.set(externalId, { spec, functionId })
        return functionId
      })

    for (const [externalId, spec] of Object.entries(options.functions ?? {})) yield* register(externalId, spec)

    const recordedCalls: Effect.Effect<ReadonlyArray<RecordedCall>, ReadError> = Effect.forEach(
      recorded,
      (entry) =>
        Effect.gen(function*() {
          const call = yield* calls.retrieve(entry.functionId, entry.callId)
          const response = call.status === "Completed"
            ? Option.flatten(yield* Effect.option(calls.response(entry.functionId, entry.callId)))
            : Option.none()
          return {
            ...entry,
            status: call.status,
            response,
            error: Option.fromNullable(call.error)
          } satisfies RecordedCall
        })
    )

    // Waits poll when the call they wait for ends: at once when it has, at its duration's end when it runs.
    const schedule = Schedule.identity<unknown>().pipe(
      Schedule.addDelayEffect((input) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const id = callIdOf(input)
          const state = id === undefined ? undefined : running.get(id)
          if (state === undefined) return UNFORESEEN
          if (state.finished) return Duration.zero
          return state.endsAt > now ? Duration.millis(state.endsAt - now) : UNFORESEEN
        })
      )
    )

    const service: TestFunctions.Service = { register: (xid, spec) => register(xid, spec), calls: recordedCalls }
    return { service, schedule }
  })
