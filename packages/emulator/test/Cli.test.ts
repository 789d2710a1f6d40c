/** The command line's argument parsing. */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { Cli } from "../src/index.js"

describe("Cli.parseArgs", () => {
  it("reads the documented options", () => {
    expect(Cli.parseArgs(["--port", "0", "--data-dir", "/tmp/x", "--project=demo", "--timeout-minutes", "2"])).toEqual(
      Either.right({
        port: 0,
        host: undefined,
        project: "demo",
        dataDir: "/tmp/x",
        token: undefined,
        clientId: undefined,
        clientSecret: undefined,
        limits: { timeoutMinutes: 2 }
      })
    )
    expect(Cli.parseArgs(["--help"])).toEqual(Either.right("help"))
  })

  it("refuses unknown options and bad values", () => {
    expect(Either.isLeft(Cli.parseArgs(["--nope"]))).toBe(true)
    expect(Either.isLeft(Cli.parseArgs(["--port", "-1"]))).toBe(true)
    expect(Either.isLeft(Cli.parseArgs(["--port"]))).toBe(true)
  })
})
