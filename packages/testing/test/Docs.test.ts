/** The docs show the code that the test suite runs: the testing guide embeds the user's test verbatim. */
import { expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))

it("docs/testing.md shows packages/testing/test/examples/InvoiceService.test.ts as it is", () => {
  const doc = fs.readFileSync(path.resolve(here, "../../../docs/testing.md"), "utf8")
  const example = fs.readFileSync(path.join(here, "examples/InvoiceService.test.ts"), "utf8")
  expect(doc).toContain("```ts\n" + example + "```")
})
