// Shared by the durable benchmark and its waiter process: the CDF services against an emulator, and
// the storages of the durable engine, all from the built packages (run `pnpm build` first).
import { NodeHttpClient } from "@effect/platform-node"
import { Layer, Redacted } from "effect"
import { CogniteFunctions } from "../../packages/functions/dist/index.js"
import { Auth } from "../../packages/http/dist/index.js"
import { CallWorkflow } from "../../packages/workflow/dist/index.js"
import * as Postgres from "../../packages/workflow/dist/Postgres.js"
import * as Sqlite from "../../packages/workflow/dist/Sqlite.js"

/** The CDF services against an emulator at `url`. */
export const cdf = (url, project, token) =>
  CogniteFunctions.layer({ baseUrl: url, project }).pipe(
    Layer.provide(Auth.layerToken(Redacted.make(token))),
    Layer.provide(NodeHttpClient.layerUndici)
  )

/** The durable engine with the ready CallWorkflow, on SQLite (`file`) or PostgreSQL (`url`). */
export const engine = (storage) =>
  CallWorkflow.layer.pipe(
    Layer.provideMerge(
      storage.kind === "sqlite"
        ? Sqlite.layer({ filename: storage.file, retention: false })
        : Postgres.layer({
          url: storage.url,
          runnerAddress: { host: "127.0.0.1", port: storage.port },
          retention: false
        })
    )
  )
