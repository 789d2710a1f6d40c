// Bundles `cdf-fn` into dist/cdf-fn/ (run after `tsc -b`): one ES module per command group and a shared
// chunk, with only the code they use. It also copies the examples the demo deploys from the repository's
// examples/ (their one source) into this package's examples/, which the tarball ships. Unbundled, Node reads ~800 module files on every start (the whole
// `effect` and `@effect/platform` barrels, fast-check among them); bundled, it reads what the command needs.
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const outdir = path.join(cli, "dist", "cdf-fn")

/**
 * Marks CommonJS packages as free of side effects, so that a package imported but not used is left out.
 * `@effect/platform-node`'s NodeHttpClient imports undici (1 MB) for `layerUndici`; cdf-fn uses `layer`
 * (node:http), so undici is dropped.
 */
function sideEffectFree(names) {
  return {
    name: "side-effect-free",
    setup(build) {
      const filter = new RegExp(`^(${names.join("|")})$`)
      build.onResolve({ filter }, async (args) => {
        if (args.pluginData === "side-effect-free") return undefined
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: "side-effect-free"
        })
        return { ...resolved, sideEffects: false }
      })
    }
  }
}

const EXAMPLES = ["python-hello", "js-hello"]
const shipped = path.join(cli, "examples")
fs.rmSync(shipped, { recursive: true, force: true })
for (const name of EXAMPLES) {
  fs.cpSync(path.join(cli, "..", "..", "examples", name), path.join(shipped, name), { recursive: true })
}

fs.rmSync(outdir, { recursive: true, force: true })
await esbuild.build({
  entryPoints: [path.join(cli, "dist", "bin.js")],
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outdir,
  logLevel: "warning",
  // optional native add-ons of dependencies: loaded at run time when present, as without the bundle; and
  // the SQLite driver of `cdf-fn durable` (a native module: it loads its compiled .node file from its own folder)
  external: ["bufferutil", "utf-8-validate", "msgpackr-extract", "better-sqlite3"],
  plugins: [sideEffectFree(["undici"])],
  // CommonJS dependencies bundled into ES modules still call `require` for Node's built-ins
  banner: {
    js:
      "import { createRequire as __cdfFnRequire } from \"node:module\"; const require = __cdfFnRequire(import.meta.url);"
  }
})
