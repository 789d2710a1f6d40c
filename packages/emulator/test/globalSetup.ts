/**
 * Builds the emulator (`tsc -b`, incremental: a no-op when `dist` is current) before the tests that run
 * its bin as a separate process (the crash test, the command line), so `pnpm test` alone works.
 */
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const emulator = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

export default function setup(): void {
  execFileSync(
    process.execPath,
    [path.join(emulator, "..", "..", "node_modules", "typescript", "bin", "tsc"), "-b", "tsconfig.src.json"],
    { cwd: emulator, stdio: "inherit" }
  )
}
