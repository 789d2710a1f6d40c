/** What every service's `layerConfig` stands on: the client, auth and sessions, all from the environment. */
import { layerFromEnv } from "@effect-cdf/http/CdfClient"
import { Layer } from "effect"
import * as Sessions from "../Sessions.js"

/** `CdfClient`, `Auth` and `Sessions` from the `COGNITE_*` variables; only the `HttpClient` is left to provide. */
export const fromEnv = Sessions.layerConfig.pipe(Layer.provideMerge(layerFromEnv))
