/** docs/durable-calls.md shows code that compiles: its example is test/examples/Pipeline.ts, verbatim. */
import { expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))

it("docs/durable-calls.md shows test/examples/Pipeline.ts as it is", () => {
  const doc = fs.readFileSync(path.resolve(here, "../../../docs/durable-calls.md"), "utf8")
  const example = fs.readFileSync(path.join(here, "examples/Pipeline.ts"), "utf8")
  expect(doc).toContain("```ts\n" + example + "```")
})
