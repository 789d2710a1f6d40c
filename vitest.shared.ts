import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { ViteUserConfig } from "vitest/config"

const root = path.dirname(fileURLToPath(import.meta.url))
const packages = ["core", "http", "functions", "emulator", "cli", "testing", "workflow"]

/** Shared vitest settings: workspace packages resolve to their sources, so tests need no build. */
const config: ViteUserConfig = {
  esbuild: { target: "es2022" },
  resolve: {
    alias: packages.flatMap((name) => [
      { find: new RegExp(`^@effect-cdf/${name}$`), replacement: path.join(root, "packages", name, "src", "index.ts") },
      { find: new RegExp(`^@effect-cdf/${name}/(.*)$`), replacement: path.join(root, "packages", name, "src", "$1.ts") }
    ])
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000
  }
}

export default config
