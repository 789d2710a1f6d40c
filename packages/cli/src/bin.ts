#!/usr/bin/env node
/**
 * The `cdf-fn` executable. `NodeRuntime.runMain` turns Ctrl-C into interruption: a wait stops cleanly,
 * prints how to resume, and the process exits 130.
 *
 * @since 0.1.0
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Exit } from "effect"
import { run } from "./Cli.js"
import { EXIT_FAILED, EXIT_INTERRUPTED } from "./Output.js"

const main = run(process.argv).pipe(
  Effect.tap((code) => Effect.sync(() => void (process.exitCode = code))),
  Effect.provide(NodeContext.layer)
)

NodeRuntime.runMain(main, {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit, onExit) => {
    const code = Exit.isSuccess(exit)
      ? typeof process.exitCode === "number" ? process.exitCode : 0
      : Cause.isInterruptedOnly(exit.cause)
      ? EXIT_INTERRUPTED
      : EXIT_FAILED
    process.exitCode = code
    onExit(code)
  }
})
