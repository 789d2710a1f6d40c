/**
 * Builds `cdf-fn` (and the packages it depends on) and its bundle before the end-to-end tests when the
 * bundle is missing or older than a source file of the CLI or of a package it uses, so `pnpm test` alone
 * works.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const root = path.resolve(cli, "../..")
const bin = path.join(cli, "dist", "cdf-fn", "bin.js")

const newest = (dir: string): number => {
  let latest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs)
  }
  return latest
}

export default function setup(): void {
  const sources = ["cli", "core", "http", "functions", "emulator", "workflow"].map((name) =>
    path.join(root, "packages", name, "src")
  )
  const built = fs.existsSync(bin) ? fs.statSync(bin).mtimeMs : 0
  const examples = fs.existsSync(path.join(cli, "examples"))
  if (examples && sources.every((dir) => newest(dir) <= built)) return
  execFileSync(process.execPath, [
    path.join(root, "node_modules", "typescript", "bin", "tsc"),
    "-b",
    "tsconfig.src.json"
  ], {
    cwd: cli,
    stdio: "inherit"
  })
  execFileSync(process.execPath, [path.join(cli, "scripts", "bundle.mjs")], { cwd: cli, stdio: "inherit" })
}
