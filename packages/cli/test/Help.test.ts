/**
 * The command tree, read in-process: parsing, "did you mean", and the help of every command.
 */
import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import { help as emulatorHelp } from "../src/Delegate.js"
import { render } from "../src/Help.js"
import { parse, suggest } from "../src/Parse.js"
import type { Group, Leaf } from "../src/Spec.js"
import { root } from "../src/Tree.js"

const every = (): Array<readonly [ReadonlyArray<string>, Leaf | Group]> =>
  root.commands.flatMap((command): Array<readonly [ReadonlyArray<string>, Leaf | Group]> =>
    command._tag === "Group"
      ? [[[command.name], command], ...command.commands.map((leaf) => [[command.name, leaf.name], leaf] as const)]
      : command._tag === "Leaf"
      ? [[[command.name], command]]
      : []
  )

describe("help", () => {
  it("every command's help is plain text a person can read at 80 columns", () => {
    const texts = [render(root, [], root), ...every().map(([path, node]) => render(root, path, node))]
    for (const text of texts) {
      expect(text).not.toMatch(/\u001b/)
      for (const line of text.split("\n")) expect(line.length, line).toBeLessThanOrEqual(80)
      for (const boilerplate of ["A user-defined piece of text", "This setting is optional", "--wizard", "redacted"]) {
        expect(text).not.toContain(boilerplate)
      }
    }
  })

  it("the emulator's commands (read by @effect/cli) get help of the same form", () => {
    for (const argv of [[], ["--help"], ["start", "--help"], ["start", "-h"]]) {
      const text = Option.getOrThrow(emulatorHelp(argv))
      expect(text).toMatch(/^Usage: cdf-fn emulator /)
      expect(text).not.toMatch(/\u001b/)
      for (const line of text.split("\n")) expect(line.length, line).toBeLessThanOrEqual(80)
      for (const boilerplate of ["A user-defined piece of text", "This setting is optional", "--wizard"]) {
        expect(text).not.toContain(boilerplate)
      }
    }
    expect(Option.getOrThrow(emulatorHelp(["start", "--help"]))).toContain("--port N")
    expect(emulatorHelp(["start", "--port", "0"])).toEqual(Option.none())
  })

  it("usage lines name the whole command", () => {
    for (const [path, node] of every()) {
      expect(render(root, path, node)).toContain(`Usage: cdf-fn ${path.join(" ")}`)
    }
  })

  it("--help anywhere in a command asks for that command's help", () => {
    expect(parse(root, ["functions", "deploy", "x", "--help"])).toMatchObject({
      _tag: "Help",
      path: ["functions", "deploy"]
    })
    expect(parse(root, ["functions"])).toMatchObject({ _tag: "Help", path: ["functions"] })
    expect(parse(root, [])).toMatchObject({ _tag: "Help", path: [] })
  })
})

describe("parse", () => {
  it("gives typed values with defaults", () => {
    expect(parse(root, ["calls", "list", "f", "--status", "failed", "--limit=5"])).toMatchObject({
      _tag: "Run",
      path: ["calls", "list"],
      values: { fn: "f", status: "Failed", limit: 5, json: false }
    })
    expect(parse(root, ["calls", "list", "f"])).toMatchObject({ values: { limit: 25, status: undefined } })
    expect(parse(root, ["functions", "delete", "a", "b", "--json"])).toMatchObject({
      values: { refs: ["a", "b"], json: true }
    })
  })

  it("typos get a suggestion", () => {
    expect(suggest("fucntions", ["functions", "call"])).toBe("functions")
    expect(parse(root, ["fucntions", "list"])).toMatchObject({ _tag: "Usage", suggestion: "functions" })
    expect(parse(root, ["functions", "lst"])).toMatchObject({
      _tag: "Usage",
      suggestion: "functions list",
      hint: expect.stringContaining("list, get, deploy, delete")
    })
    expect(parse(root, ["call", "f", "--dat", "{}"])).toMatchObject({ _tag: "Usage", suggestion: "--data" })
    expect(parse(root, ["calls", "list", "f", "--status", "Runing"])).toMatchObject({
      _tag: "Usage",
      suggestion: "Running"
    })
    expect(parse(root, ["frobnicate"])).toMatchObject({ _tag: "Usage", suggestion: undefined })
  })

  it("refuses missing and extra arguments, missing values and bad integers", () => {
    for (
      const argv of [
        ["call"],
        ["functions", "get", "a", "b"],
        ["call", "f", "--data"],
        ["call", "f", "--data", "--json"],
        ["calls", "list", "f", "--limit", "many"],
        ["functions", "list", "--json=yes"],
        ["schedules", "create", "--name", "n", "--cron", "* * * * *"]
      ]
    ) expect(parse(root, argv)._tag, argv.join(" ")).toBe("Usage")
  })
})
