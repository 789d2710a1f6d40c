/**
 * The examples the demo deploys ship inside the package, copied by the build from the repository's root
 * `examples/`: the copy must be whole, and the demo must find it from an installed package.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { examplePath, packageRoot } from "../src/Examples.js"
import { cleanEnv, finished } from "./support.js"

const repositoryExamples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "examples")

const files = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? files(path.join(dir, entry.name)).map((file) => path.join(entry.name, file))
      : [entry.name]
  ).sort()

describe("examples", () => {
  it("are found inside the package", () => {
    expect(JSON.parse(fs.readFileSync(path.join(packageRoot(), "package.json"), "utf8")).files).toContain("examples")
    for (const name of ["python-hello", "js-hello"]) {
      expect(fs.existsSync(path.join(examplePath(name), "README.md")), name).toBe(true)
    }
  })

  it("the package's copy is the repository's examples/, file for file", () => {
    const shipped = path.join(packageRoot(), "examples")
    expect(files(shipped)).toEqual(files(repositoryExamples))
    for (const file of files(shipped)) {
      expect(fs.readFileSync(path.join(shipped, file), "utf8"), file).toBe(
        fs.readFileSync(path.join(repositoryExamples, file), "utf8")
      )
    }
  })

  it("cdf-fn demo runs from an installed copy of the package, with no repository around it", async () => {
    const installed = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cdf-fn-installed-")), "node_modules", "cli")
    const root = packageRoot()
    fs.mkdirSync(path.join(installed, "dist"), { recursive: true })
    for (const entry of ["package.json", "bin", "examples"]) {
      fs.cpSync(path.join(root, entry), path.join(installed, entry), { recursive: true })
    }
    fs.cpSync(path.join(root, "dist", "cdf-fn"), path.join(installed, "dist", "cdf-fn"), { recursive: true })
    const child = spawn(process.execPath, [path.join(installed, "bin", "cdf-fn.js"), "demo", "--json"], {
      cwd: path.dirname(installed),
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"]
    })
    const run = await finished(child)
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({
      function: { folder: expect.stringContaining(path.join(installed, "examples")) },
      call: { status: "Completed" }
    })
  })
})
