#!/usr/bin/env node
// The installed `cdf-fn`: the bundle `pnpm build` writes to dist/cdf-fn/ (this file is committed so that
// the package manager can link the command before the first build).
const bundle = new URL("../dist/cdf-fn/bin.js", import.meta.url)
import(bundle.href).catch((error) => {
  if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes(bundle.pathname)) {
    process.stderr.write("cdf-fn is not built yet: run `pnpm build` in the repository first\n")
    process.exit(2)
  }
  throw error
})
