import { CogniteFunctions, FunctionDef } from "@effect-cdf/functions"
import { CallWorkflow, DurableCall } from "@effect-cdf/workflow"
import * as Sqlite from "@effect-cdf/workflow/Sqlite"
import { NodeHttpClient } from "@effect/platform-node"
import { Workflow } from "@effect/workflow"
import { Effect, Layer, Schema } from "effect"

// the ready workflow for one call
export const one = CallWorkflow.call("forecast", { assetId: 42 }, { key: "forecast-42-2026-12-01" })

// your own workflow: a sequence and a fan-out of durable calls
const Score = FunctionDef.make({
  externalId: "score",
  input: Schema.Struct({ assetId: Schema.Number, part: Schema.Number }),
  output: Schema.Struct({ score: Schema.Number })
})
const Pipeline = Workflow.make({
  name: "pipeline",
  payload: { assetId: Schema.Number },
  success: Schema.Number,
  error: DurableCall.CallErrorSchema,
  idempotencyKey: ({ assetId }) => `pipeline-${assetId}`
})
const PipelineLive = Pipeline.toLayer(({ assetId }) =>
  Effect.gen(function*() {
    yield* DurableCall.call("prepare", "prepare", { assetId })
    const parts = yield* Effect.all(
      [0, 1, 2, 3].map((part) => DurableCall.call(`score-${part}`, Score, { assetId, part })),
      { concurrency: "unbounded" }
    )
    return parts.reduce((sum, p) => sum + p.response.score, 0)
  })
)

export const Live = Layer.mergeAll(CallWorkflow.layer, PipelineLive).pipe(
  Layer.provideMerge(Sqlite.layer({ filename: "durable.db" })),
  Layer.provide(CogniteFunctions.layerConfig), // COGNITE_* variables
  Layer.provide(NodeHttpClient.layerUndici)
)
