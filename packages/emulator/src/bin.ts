#!/usr/bin/env node
/**
 * The emulator's command-line entry: `node dist/bin.js --port 0 --data-dir DIR --project NAME`.
 * `NodeRuntime.runMain` turns SIGINT/SIGTERM into interruption, so the server, calls, workers and
 * processes are all released and the state is saved before the process exits.
 *
 * @since 0.1.0
 */
import { NodeRuntime } from "@effect/platform-node"
import { run } from "./Cli.js"

NodeRuntime.runMain(run(process.argv.slice(2)), { disableErrorReporting: false })
