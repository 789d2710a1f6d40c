/** The services over a real emulator on loopback, for the tests that drive the SDK against it. */
import { Emulator } from "@effect-cdf/emulator"
import { CogniteFunctions } from "@effect-cdf/functions"
import { Auth } from "@effect-cdf/http"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"

/** The SDK's services (undici) over an emulator started for the test, with the emulator itself. */
export const emulated = (
  options: {
    readonly emulator?: Emulator.EmulatorOptions | undefined
    readonly retry?: CogniteFunctions.Options["retry"] | undefined
  } = {}
) =>
  Layer.unwrapEffect(
    Effect.map(Emulator.Emulator, (emulator) =>
      CogniteFunctions.layer({
        baseUrl: emulator.baseUrl,
        project: emulator.project,
        ...(options.retry === undefined ? {} : { retry: options.retry })
      }).pipe(
        Layer.provide(Auth.layerToken(emulator.token)),
        Layer.provide(NodeHttpClient.layerUndici)
      ))
  ).pipe(Layer.provideMerge(Emulator.layer(options.emulator)))
