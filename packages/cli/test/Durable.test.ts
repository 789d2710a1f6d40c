/**
 * `cdf-fn durable`: its help in the form of every other help, listed by `cdf-fn --help`, and the demo end
 * to end (the built `cdf-fn`, a worker process killed with SIGKILL and restarted on the same SQLite file).
 */
import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { help } from "../src/Delegate.js"
import { render } from "../src/Help.js"
import { root } from "../src/Tree.js"
import { BIN, cleanEnv, cli, doc } from "./support.js"

const BUNDLE = path.resolve(path.dirname(BIN), "..", "dist", "cdf-fn")

/** The bundle's modules that `bin.js` loads at start: its static imports, followed through. */
const loadedAtStart = (): Array<string> => {
  const seen = new Set<string>()
  const queue = ["bin.js"]
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue
    seen.add(file)
    const text = fs.readFileSync(path.join(BUNDLE, file), "utf8")
    for (const match of text.matchAll(/(?:^|[;\n])\s*import\s*(?:[^"';]*?from\s*)?"\.\/([^"]+)"/g)) queue.push(match[1])
  }
  return [...seen]
}

describe("cdf-fn durable", () => {
  it("is listed by cdf-fn --help", () => {
    expect(render(root, [], root)).toMatch(/^ {2}durable {2,}Durable calls/m)
  })

  it("the workflow engine is not among the modules cdf-fn loads at start (only `durable` loads it)", () => {
    const files = loadedAtStart()
    expect(files).toContain("bin.js")
    const everything = fs.readdirSync(BUNDLE).filter((file) => file.endsWith(".js"))
    const withEngine = everything.filter((file) =>
      fs.readFileSync(path.join(BUNDLE, file), "utf8").includes("cdf_durable_calls")
    )
    expect(withEngine.length).toBeGreaterThan(0)
    for (const file of withEngine) expect(files).not.toContain(file)
  })

  it("its help is plain text at 80 columns, with the options of each command", () => {
    for (const argv of [[], ["--help"], ["demo", "--help"], ["worker", "-h"]]) {
      const text = Option.getOrThrow(help(argv, "durable"))
      expect(text).toMatch(/^Usage: cdf-fn durable /)
      expect(text).not.toMatch(/\u001b/)
      for (const line of text.split("\n")) expect(line.length, line).toBeLessThanOrEqual(80)
      for (const boilerplate of ["A user-defined piece of text", "This setting is optional", "An integer."]) {
        expect(text).not.toContain(boilerplate)
      }
    }
    expect(Option.getOrThrow(help(["demo", "--help"], "durable"))).toContain("--calls N")
    expect(Option.getOrThrow(help(["worker", "--help"], "durable"))).toContain("--db VALUE")
  })

  it("demo --calls 5 --json: every call completes after the worker is killed, each executed once", async () => {
    const run = await cli(["durable", "demo", "--calls", "5", "--sleep", "2000", "--json"], cleanEnv())
    expect(run.code, run.stderr).toBe(0)
    expect(doc(run)).toMatchObject({ calls: 5, completed: 5, executions: 5, worker: { exitCode: 0 } })
  }, 120_000)

  it("a bad --calls is a usage error", async () => {
    const run = await cli(["durable", "demo", "--calls", "0"], cleanEnv())
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("--calls is 1..200")
  }, 60_000)
})
