/**
 * Where the example functions the demo deploys are: `examples/` inside this package (shipped in its
 * tarball), found by walking up from this module to the package's root, so it works from `src/`, from
 * `dist/` and from the bundle in `dist/cdf-fn/`. `pnpm build` copies them there from the repository's root
 * `examples/`, their one source; a test checks the copy.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const PACKAGE = "@effect-cdf/cli"

const isPackageRoot = (dir: string): boolean => {
  try {
    const manifest: unknown = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"))
    return typeof manifest === "object" && manifest !== null && "name" in manifest && manifest.name === PACKAGE
  } catch {
    return false
  }
}

/** The root folder of this package. */
export const packageRoot = (): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!isPackageRoot(dir)) {
    const parent = path.dirname(dir)
    if (parent === dir) return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
    dir = parent
  }
  return dir
}

/** The folder of an example, e.g. `examplePath("python-hello")`. */
export const examplePath = (name: string): string => path.join(packageRoot(), "examples", name)
