#!/usr/bin/env node
// The command-line entry, kept outside dist/ so that pnpm can link it before the package is built.
import "../dist/bin.js"
