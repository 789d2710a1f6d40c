#!/usr/bin/env node
/**
 * The emulator's command-line entry: `effect-cdf-emulator --port 0 --data-dir DIR --project NAME`.
 * `NodeRuntime.runMain` turns SIGINT/SIGTERM into interruption, so the server, calls, workers and
 * processes are all released and the state is flushed before the process exits.
 *
 * @since 0.1.0
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { run } from "./Cli.js"

NodeRuntime.runMain(
  run(process.argv).pipe(
    Effect.flatMap((code) =>
      Effect.sync(() => {
        process.exitCode = code
      })
    ),
    Effect.provide(NodeContext.layer)
  ),
  { disableErrorReporting: false }
)
