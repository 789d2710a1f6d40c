// CLI start benchmark: wall time of `cdf-fn --help` and of `cdf-fn functions list` against a running
// emulator (started here as a child process with `cdf-fn emulator start --json`), median of 5 each, next to
// `node -e 0` and `import("effect")` for scale. Exits 1 when a median is above the target (450 ms).
// Build first, then run from the repository root:
//   pnpm build && node bench/cli/run.mjs [--runs 5] [--bin packages/cli/bin/cdf-fn.js]
import { spawn, spawnSync } from "node:child_process"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const option = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : fallback
}
const RUNS = Number(option("runs", "5"))
const BIN = path.resolve(option("bin", path.join(root, "packages", "cli", "bin", "cdf-fn.js")))
const TARGET_MS = 450

// every variable that could select a target is left out: the numbers are for the target set below
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) =>
    !key.startsWith("COGNITE_") && !/^(CDF_|IDP_)/.test(key) && key !== "LOGIN_FLOW" && key !== "PROVIDER"
  )
)

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** Runs `args` with node `RUNS` times (after one warm-up run for the file cache); the median wall time. */
const time = (args, env) => {
  const once = () => {
    const started = process.hrtime.bigint()
    const result = spawnSync(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"], cwd: root })
    const millis = Number(process.hrtime.bigint() - started) / 1e6
    if (result.status !== 0) throw new Error(`${args.join(" ")} exited ${result.status}: ${result.stderr}`)
    return millis
  }
  once()
  return median(Array.from({ length: RUNS }, once))
}

const startEmulator = () =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "emulator", "start", "--json"], {
      env: baseEnv,
      stdio: ["ignore", "pipe", "inherit"]
    })
    let buffer = ""
    child.on("error", reject)
    child.on("exit", (code) => reject(new Error(`the emulator exited with ${code}`)))
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      buffer += chunk
      const end = buffer.indexOf("\n")
      if (end >= 0) resolve({ child, env: JSON.parse(buffer.slice(0, end)).env })
    })
  })

const { child, env } = await startEmulator()
try {
  const rows = [
    ["node -e 0", time(["-e", "0"], baseEnv), undefined],
    ["import(\"effect\")", time(["--input-type=module", "-e", "await import('effect')"], baseEnv), undefined],
    ["cdf-fn --help", time([BIN, "--help"], baseEnv), TARGET_MS],
    ["cdf-fn functions list", time([BIN, "functions", "list"], { ...baseEnv, ...env }), TARGET_MS]
  ]
  console.log(
    `CLI start, median of ${RUNS} (${os.cpus()[0]?.model ?? "cpu"}, ${os.cpus().length} cores, load ${
      os.loadavg()[0].toFixed(1)
    }, node ${process.version}), ${path.relative(root, BIN)}\n`
  )
  console.log("| command | median ms | target ms |\n|---|---|---|")
  for (const [name, ms, target] of rows) console.log(`| ${name} | ${ms.toFixed(0)} | ${target ?? ""} |`)
  const missed = rows.filter(([, ms, target]) => target !== undefined && ms > target)
  if (missed.length > 0) {
    console.error(`\nabove target: ${missed.map(([name]) => name).join(", ")}`)
    process.exitCode = 1
  }
} finally {
  child.removeAllListeners("exit")
  child.kill("SIGINT")
}
