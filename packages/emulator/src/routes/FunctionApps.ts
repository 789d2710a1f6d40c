/**
 * `/function-apps/...`: Function Apps, functions addressed by external id and called with an HTTP-like
 * envelope, synchronously or with `Prefer: respond-async`.
 *
 * @since 0.1.0
 */
import { CogniteFunction, FunctionApp } from "@effect-cdf/core"
import { HttpRouter, HttpServerRequest } from "@effect/platform"
import { Deferred, Effect, Redacted, Schema } from "effect"
import { decodeBody, encoded, jsonResponse } from "../internal/http.js"
import type { StoredCall } from "../State.js"
import { CallItems } from "./Calls.js"
import {
  appOr404,
  callOr404,
  callOrder,
  idParam,
  projectUrl,
  readOne,
  requires,
  requiresActivated,
  startCall,
  withStore
} from "./common.js"
import { FunctionList } from "./Functions.js"

/** Where these routes are mounted. */
export const PREFIX = "/function-apps"

/** The body of a Function App call's result. */
const appResult = (stored: StoredCall) => {
  const call = stored.call
  return {
    callId: call.id,
    functionId: call.functionId,
    runtimeStatus: call.status,
    ...(call.status === "Completed" && stored.response !== undefined ? { response: stored.response.value } : {}),
    ...(call.error === undefined ? {} : {
      error: call.error.trace === undefined
        ? { message: call.error.message }
        : { message: call.error.message, trace: call.error.trace }
    })
  }
}

const appCall = Effect.gen(function*() {
  yield* requiresActivated("functionsAcl:WRITE")
  const stored = yield* appOr404
  const request = yield* HttpServerRequest.HttpServerRequest
  const body = yield* decodeBody(FunctionApp.FunctionAppCallRequest)
  const data = Schema.encodeSync(FunctionApp.FunctionAppRequestData)(body.data)
  const call = yield* startCall(stored.fn.id, { body: {}, headers: {}, ...data }, Redacted.value(body.nonce))
  if (/respond-async/i.test(request.headers["prefer"] ?? "")) {
    const location = `${yield* projectUrl}${PREFIX}/${
      encodeURIComponent(stored.fn.externalId ?? "")
    }/calls/${call.call.id}/response`
    return jsonResponse(appResult(call), 202, { location })
  }
  yield* Deferred.await(call.done)
  return jsonResponse(appResult(call))
})

const appCallOr404 = Effect.gen(function*() {
  yield* requires("functionsAcl:READ")
  const stored = yield* appOr404
  return yield* Effect.flatMap(idParam("callId"), (callId) => callOr404(stored.fn.id, callId))
})

/** The routes under `PREFIX`, relative to it. */
export const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/",
    withStore("functionsAcl:READ", (store) =>
      Effect.succeed(
        encoded(FunctionList, {
          items: [...store.functions.values()].map((f) => f.fn).filter((fn) => fn.externalId !== undefined)
        })
      ))
  ),
  HttpRouter.get(
    "/:externalId",
    readOne("functionsAcl:READ", appOr404, (stored) => encoded(CogniteFunction.CogniteFunction, stored.fn))
  ),
  HttpRouter.post("/:externalId/calls", appCall),
  HttpRouter.get(
    "/:externalId/calls",
    withStore("functionsAcl:READ", (store) =>
      Effect.map(appOr404, (stored) =>
        encoded(CallItems, {
          items: [...store.calls.values()].map((c) => c.call).filter((c) => c.functionId === stored.fn.id).sort(
            callOrder
          )
        })))
  ),
  HttpRouter.get(
    "/:externalId/calls/:callId/response",
    Effect.map(appCallOr404, (stored) => jsonResponse(appResult(stored), stored.call.status === "Running" ? 202 : 200))
  ),
  HttpRouter.get(
    "/:externalId/calls/:callId/logs",
    Effect.map(
      appCallOr404,
      (stored) =>
        jsonResponse({ items: stored.logs.map((l) => ({ timestamp: Math.floor(l.timestamp), message: l.message })) })
    )
  )
)
