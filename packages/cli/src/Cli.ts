/**
 * How `cdf-fn` runs a command line: help, the version and usage errors straight from the command tree
 * (nothing else is loaded for them), then the one command asked for, loaded on demand.
 *
 * @since 0.1.0
 */
import { render } from "./Help.js"
import type { UsageProblem } from "./Parse.js"
import { parse } from "./Parse.js"
import { load, root, VERSION } from "./Tree.js"

/** The command tree and the version. */
export { root, VERSION }

/** The exit code of bad usage (see `Output`). */
const EXIT_USAGE = 2

/** The lines and the JSON document of a usage error. */
export const usageReport = (problem: UsageProblem) => ({
  lines: [`error: ${problem.message}`, ...(problem.hint === undefined ? [] : [`  ${problem.hint}`])],
  json: {
    error: {
      _tag: "UsageError",
      message: problem.message,
      ...(problem.suggestion === undefined ? {} : { suggestion: problem.suggestion }),
      ...(problem.hint === undefined ? {} : { hint: problem.hint })
    }
  }
})

/**
 * Runs `argv` (the words after `cdf-fn`). Help and usage errors are written here and set
 * `process.exitCode`; a command is handed to the Effect runtime, which sets the exit code when it ends.
 */
export const main = async (argv: ReadonlyArray<string>): Promise<void> => {
  const outcome = parse(root, argv)
  switch (outcome._tag) {
    case "Help":
      process.stdout.write(render(root, outcome.path, outcome.node))
      process.exitCode = 0
      return
    case "Version":
      process.stdout.write(`${VERSION}\n`)
      process.exitCode = 0
      return
    case "Usage": {
      const report = usageReport(outcome)
      process.stderr.write(`${report.lines.join("\n")}\n`)
      const end = argv.indexOf("--")
      if ((end === -1 ? argv : argv.slice(0, end)).includes("--json")) {
        process.stdout.write(`${JSON.stringify(report.json, null, 2)}\n`)
      }
      process.exitCode = EXIT_USAGE
      return
    }
    case "Delegate": {
      const [{ runMain }, { delegate, isName }] = await Promise.all([import("./Run.js"), import("./Delegate.js")])
      if (!isName(outcome.name)) throw new Error(`no implementation for ${outcome.name}`)
      return runMain(delegate(outcome.name, outcome.argv))
    }
    case "Run": {
      const loader = load[outcome.path.join(" ")]
      if (loader === undefined) throw new Error(`no implementation for ${outcome.path.join(" ")}`)
      const [{ runMain }, runner] = await Promise.all([import("./Run.js"), loader()])
      return runMain(runner(outcome.values))
    }
  }
}
