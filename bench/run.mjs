#!/usr/bin/env node
/**
 * `pnpm bench`: every benchmark in one run, one after another (so they do not compete for the CPU),
 * each printing its own table. A benchmark exits non-zero when it misses a target; this runner goes on
 * with the others, prints a summary, and exits non-zero if any missed.
 *
 * Usage: node bench/run.mjs [name ...]   (names: transport, scale, emulator, cli, polling, durable;
 * default: all but durable, which takes several minutes: `pnpm bench:durable`)
 */
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))

/** Each benchmark: its script and the node flags it needs. */
const benches = {
  transport: { script: "transport/run.mjs", flags: [] },
  scale: { script: "scale/run.mjs", flags: ["--expose-gc"] },
  emulator: { script: "emulator/run.mjs", flags: [] },
  cli: { script: "cli/run.mjs", flags: [] },
  polling: { script: "polling/run.mjs", flags: [] },
  durable: { script: "durable/run.mjs", flags: [] }
}

const asked = process.argv.slice(2)
const unknown = asked.filter((name) => !(name in benches))
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(", ")}; known: ${Object.keys(benches).join(", ")}`)
  process.exit(2)
}
const names = asked.length > 0 ? asked : Object.keys(benches).filter((name) => name !== "durable")

const results = []
for (const name of names) {
  const { flags, script } = benches[name]
  console.log(`\n=== bench ${name} (${new Date().toISOString()}) ===\n`)
  const started = Date.now()
  const run = spawnSync(process.execPath, [...flags, path.join(here, script)], { stdio: "inherit" })
  results.push({ name, code: run.status ?? 1, seconds: (Date.now() - started) / 1000 })
}

console.log("\n=== summary ===\n")
console.log("| benchmark | result | seconds |")
console.log("|---|---|---|")
for (const { code, name, seconds } of results) {
  console.log(`| ${name} | ${code === 0 ? "targets met" : `missed (exit ${code})`} | ${seconds.toFixed(1)} |`)
}
process.exit(results.every((result) => result.code === 0) ? 0 : 1)
