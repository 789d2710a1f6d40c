/**
 * Where the example functions are: `examples/` at the root of the repository, found relative to this file
 * (`src/` or `dist/` of `packages/cli`).
 *
 * @since 0.1.0
 */
import { fileURLToPath } from "node:url"

/** The folder of an example, e.g. `examplePath("python-hello")`. */
export const examplePath = (name: string): string =>
  fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url))
