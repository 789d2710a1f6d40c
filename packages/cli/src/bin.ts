#!/usr/bin/env node
/**
 * The `cdf-fn` executable. It loads only the command tree until it knows which command runs, so
 * `cdf-fn --help` and usage errors answer without loading the SDK. A closed stdout (`cdf-fn ... | head -1`)
 * ends the process quietly.
 *
 * @since 0.1.0
 */
import { main } from "./Cli.js"

const quietOnClosedPipe = (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0)
  throw error
}
process.stdout.on("error", quietOnClosedPipe)
process.stderr.on("error", quietOnClosedPipe)

void main(process.argv.slice(2))
