#!/usr/bin/env node
// The installed `cdf-fn`: the bundle `pnpm build` writes to dist/cdf-fn/ (committed here so that the
// package manager can link the command before the first build).
import "../dist/cdf-fn/bin.js"
