import { defineProject, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

export default mergeConfig(
  shared,
  defineProject({
    test: {
      name: "cli",
      // the end-to-end tests run the built `cdf-fn`: build it first when it is missing or stale
      globalSetup: ["./test/globalSetup.ts"],
      testTimeout: 120_000,
      // the end-to-end tests mostly wait on child processes and the emulator: run them all at once, not 5
      maxConcurrency: 64,
      // and the end-to-end files side by side (vitest runs one at a time on 2 cores): they wait more than they compute
      maxWorkers: 2,
      minWorkers: 1,
      hookTimeout: 120_000
    }
  })
)
