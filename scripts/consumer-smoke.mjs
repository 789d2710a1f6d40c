#!/usr/bin/env node
/**
 * The consumer smoke test: what a user outside this repository gets from the published packages.
 *
 * 1. Builds and packs every package of the workspace (`pnpm -r pack`, as a publish would).
 * 2. Makes a fresh consumer project in a temporary folder (`"type": "module"`, TypeScript 5.9,
 *    `moduleResolution` NodeNext, `skipLibCheck: false`) and installs the tarballs with npm, with
 *    exactly the peer versions the README's Install section documents.
 * 3. Type-checks the README's short example (extracted from README.md, so the two cannot drift).
 * 4. Starts an emulator from the installed cli package (`cdf-fn emulator start --json`), deploys
 *    `python-hello` with the installed `cdf-fn`, runs the compiled example against the emulator and
 *    expects the greeting; then runs `cdf-fn demo` from the installed package.
 *
 * Every process it starts, it stops; the temporary folder is removed unless KEEP_CONSUMER=1.
 * Usage: node scripts/consumer-smoke.mjs
 */
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const started = Date.now()
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "effect-cdf-consumer-"))
const tarballs = path.join(tmp, "tarballs")
const consumer = path.join(tmp, "consumer")
const children = new Set()

const log = (text) => console.log(`[consumer-smoke +${((Date.now() - started) / 1000).toFixed(1)}s] ${text}`)

const run = (command, args, options = {}) => {
  log(`$ ${command} ${args.join(" ")}`)
  return execFileSync(command, args, {
    stdio: options.capture ? ["ignore", "pipe", "inherit"] : "inherit",
    encoding: "utf8",
    timeout: options.timeout ?? 600_000,
    cwd: options.cwd ?? consumer,
    env: { ...process.env, ...options.env }
  })
}

/** The install command of the README's Install section, for npm: the packages and their peers. */
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")
const installLine = (manager, dev) => {
  const pattern = new RegExp(
    `^${manager} (?:install|i|add) ${dev ? "(?:-D|--save-dev) " : ""}(@effect-cdf/[^\\n]+)$`,
    "m"
  )
  const match = readme.match(pattern)
  if (match === null) throw new Error(`README.md has no "${manager} install ${dev ? "-D " : ""}@effect-cdf/..." line`)
  return match[1].trim().split(/\s+/)
}
const exampleSource = () => {
  const section = readme.split("## A short example")[1]
  const match = section?.match(/```ts\n([\s\S]*?)```/)
  if (match == null) throw new Error("README.md has no ```ts block under \"## A short example\"")
  return match[1]
}

const cleanup = () => {
  for (const child of children) child.kill("SIGKILL")
  if (process.env.KEEP_CONSUMER === "1") log(`kept ${tmp}`)
  else fs.rmSync(tmp, { recursive: true, force: true })
}
process.on("exit", cleanup)
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130))

/** Starts `cdf-fn emulator start --json` from the installed package and reads its one JSON line. */
const startEmulator = () =>
  new Promise((resolve, reject) => {
    const bin = path.join(consumer, "node_modules", ".bin", "cdf-fn")
    const child = spawn(bin, ["emulator", "start", "--json"], { cwd: consumer, stdio: ["ignore", "pipe", "pipe"] })
    children.add(child)
    let out = ""
    let err = ""
    const timer = setTimeout(() => reject(new Error(`the emulator did not start in 60 s\n${out}\n${err}`)), 60_000)
    child.stderr.on("data", (chunk) => (err += chunk))
    child.stdout.on("data", (chunk) => {
      out += chunk
      const line = out.split("\n").find((l) => l.trim().startsWith("{"))
      if (line !== undefined) {
        clearTimeout(timer)
        resolve({ child, info: JSON.parse(line) })
      }
    })
    child.on("exit", (code) => reject(new Error(`the emulator exited with ${code}\n${out}\n${err}`)))
  })

const main = async () => {
  log(`workspace ${root}, consumer ${consumer}`)
  fs.mkdirSync(tarballs)
  fs.mkdirSync(consumer)
  run("pnpm", ["-r", "--filter", "./packages/*", "run", "build"], { cwd: root })
  run("pnpm", ["-r", "--filter", "./packages/*", "pack", "--pack-destination", tarballs], { cwd: root, capture: true })
  const packed = fs.readdirSync(tarballs).filter((f) => f.endsWith(".tgz")).sort()
  log(`packed ${packed.join(", ")}`)
  for (const file of packed) {
    const listing = execFileSync("tar", ["tzf", path.join(tarballs, file)], { encoding: "utf8" })
    for (const needed of ["package/LICENSE", "package/README.md", "package/package.json", "package/dist/index.js"]) {
      if (!listing.split("\n").includes(needed)) throw new Error(`${file} lacks ${needed}`)
    }
  }

  // tarball of each @effect-cdf package, by name: npm must take the packed ones, never the registry's
  const byName = Object.fromEntries(packed.map((file) => {
    const manifest = JSON.parse(execFileSync("tar", ["xzOf", path.join(tarballs, file), "package/package.json"], {
      encoding: "utf8"
    }))
    return [manifest.name, `file:../tarballs/${file}`]
  }))
  const direct = new Set([...installLine("npm", false), ...installLine("npm", true)])
  // the packages installed only as dependencies of others: npm must take those from the tarballs too
  const overrides = Object.fromEntries(Object.entries(byName).filter(([name]) => !direct.has(name)))
  fs.writeFileSync(
    path.join(consumer, "package.json"),
    JSON.stringify({ name: "effect-cdf-consumer", private: true, type: "module", overrides }, null, 2)
  )
  fs.writeFileSync(
    path.join(consumer, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: false,
          outDir: "dist",
          rootDir: "src"
        },
        include: ["src"]
      },
      null,
      2
    )
  )

  // the README's commands, with each @effect-cdf package taken from its tarball
  const swap = (spec) => (spec.startsWith("@effect-cdf/") ? byName[spec] ?? spec : spec)
  const deps = installLine("npm", false).map(swap)
  const devDeps = installLine("npm", true).map(swap)
  run("npm", ["install", "--no-fund", "--no-audit", ...deps])
  run("npm", ["install", "--no-fund", "--no-audit", "--save-dev", ...devDeps])
  run("npm", ["ls", "effect"])

  fs.mkdirSync(path.join(consumer, "src"))
  fs.writeFileSync(path.join(consumer, "src", "example.ts"), exampleSource())
  run(path.join(consumer, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"])
  log("the README's example type-checks with skipLibCheck: false")

  const { child, info } = await startEmulator()
  log(`emulator at ${info.baseUrl}, project ${info.project}`)
  const env = { ...info.env }
  const cdfFn = path.join(consumer, "node_modules", ".bin", "cdf-fn")
  run(cdfFn, ["functions", "deploy", path.join(root, "examples", "python-hello"), "--name", "python-hello", "--json"], {
    env,
    capture: true
  })
  const printed = run("node", ["dist/example.js"], { env, capture: true })
  log(`the example printed: ${printed.trim()}`)
  if (printed.trim() !== "Hello, Ada!") throw new Error(`expected "Hello, Ada!", got ${JSON.stringify(printed)}`)
  child.kill("SIGTERM")
  children.delete(child)

  const demo = run(cdfFn, ["demo"], { capture: true, env: { NO_COLOR: "1" } })
  if (!demo.includes("\"greeting\": \"Hello, Effect!\"") || !demo.includes("CallFailed")) {
    throw new Error(`cdf-fn demo from the installed package did not show the response and CallFailed:\n${demo}`)
  }
  log("cdf-fn demo works from the installed package")
  log(`passed in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

main().catch((error) => {
  console.error(`[consumer-smoke] FAILED: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
})
