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
      hookTimeout: 120_000
    }
  })
)
