/**
 * The `emulator` commands, written with `@effect/cli` in `commands/Emulator.ts`: the words after
 * `cdf-fn emulator` are read by that parser, and loaded only when `cdf-fn emulator ...` runs.
 *
 * @since 0.1.0
 */
import { CliConfig, Command, CommandDescriptor, ValidationError } from "@effect/cli"
import type { HelpDoc } from "@effect/cli"
import type { Span } from "@effect/cli/HelpDoc/Span"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, HashMap, Option } from "effect"
import * as Emulator from "./commands/Emulator.js"
import { table, WIDTH, wrap } from "./Help.js"
import { Exit, EXIT_USAGE } from "./Output.js"
import { VERSION } from "./Tree.js"

const cli = Command.run(Command.make("cdf-fn").pipe(Command.withSubcommands([Emulator.command])), {
  name: "cdf-fn",
  version: VERSION
})

const spanText = (span: Span): string => {
  switch (span._tag) {
    case "Text":
    case "URI":
      return span.value
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    case "Highlight":
    case "Strong":
    case "Weak":
      return spanText(span.value)
  }
}

/** `@effect/cli`'s boilerplate, said once in our own help instead of under every option. */
const BOILERPLATE = /^(This setting is optional\.|A true or false value\.|An integer\.|A user-defined piece of text\.)$/

/** A help document as sections: a header, its paragraphs, and its definitions (term, text). */
interface Section {
  readonly header: string
  readonly paragraphs: Array<string>
  readonly definitions: Array<readonly [string, string]>
}

const sections = (doc: HelpDoc.HelpDoc): Array<Section> => {
  const out: Array<Section> = [{ header: "", paragraphs: [], definitions: [] }]
  const paragraphs = (d: HelpDoc.HelpDoc): Array<string> =>
    d._tag === "Paragraph"
      ? [spanText(d.value).trim()]
      : d._tag === "Sequence"
      ? [...paragraphs(d.left), ...paragraphs(d.right)]
      : d._tag === "Enumeration"
      ? d.elements.flatMap(paragraphs)
      : []
  const visit = (d: HelpDoc.HelpDoc): void => {
    const current = out[out.length - 1]
    switch (d._tag) {
      case "Header":
        out.push({ header: spanText(d.value).trim(), paragraphs: [], definitions: [] })
        return
      case "Paragraph":
        current.paragraphs.push(spanText(d.value).trim())
        return
      case "DescriptionList":
        for (const [term, text] of d.definitions) {
          const said = paragraphs(text).filter((p) => p !== "" && !BOILERPLATE.test(p))
          const flag = spanText(term).trim().replace(
            / (text|integer)$/,
            (_, kind) => (kind === "integer" ? " N" : " VALUE")
          )
          current.definitions.push([flag, said.join(" ")])
        }
        return
      case "Enumeration":
        return d.elements.forEach(visit)
      case "Sequence":
        visit(d.left)
        return visit(d.right)
      case "Empty":
        return
    }
  }
  visit(doc)
  return out
}

const config = CliConfig.make({ showBuiltIns: false, showTypes: false })

const subcommands = Array.from(HashMap.entries(Command.getSubcommands(Emulator.command)))

const describe = (doc: HelpDoc.HelpDoc) =>
  sections(doc).find((section) => section.header === "DESCRIPTION")?.paragraphs.join(" ") ?? ""

/**
 * The help of the `emulator` commands in the form of every other `cdf-fn` help: plain text at 80
 * columns, the whole command in the usage line, no boilerplate under each option.
 */
export const help = (argv: ReadonlyArray<string>): Option.Option<string> => {
  const words = argv.filter((word) => !word.startsWith("-"))
  const asked = argv.includes("--help") || argv.includes("-h") || words.length === 0
  if (!asked) return Option.none()
  const sub = subcommands.find(([name]) => name === words[0])
  if (sub === undefined) {
    return Option.some(
      [
        "Usage: cdf-fn emulator <command> [options]",
        "",
        ...wrap(describe(Command.getHelp(Emulator.command, config)), WIDTH),
        "",
        "Commands:",
        ...table(
          subcommands.map(([name, descriptor]) => [name, describe(CommandDescriptor.getHelp(descriptor, config))])
        ),
        "",
        "Run `cdf-fn emulator <command> --help` for its options."
      ].join("\n") + "\n"
    )
  }
  const parts = sections(CommandDescriptor.getHelp(sub[1], config))
  const options = parts.filter((section) => section.header !== "USAGE").flatMap((section) => section.definitions)
  return Option.some(
    [
      `Usage: cdf-fn emulator ${sub[0]} [options]`,
      "",
      ...wrap(describe(CommandDescriptor.getHelp(sub[1], config)), WIDTH),
      ...(options.length === 0 ? [] : ["", "Options:", ...table(options)])
    ].join("\n") + "\n"
  )
}

/** Runs `cdf-fn emulator <argv>`; a usage error (printed by `@effect/cli`) exits 2. */
export const emulator = (argv: ReadonlyArray<string>): Effect.Effect<void, Exit> =>
  Option.match(help(argv), {
    onSome: (text) => Effect.sync(() => void process.stdout.write(text)),
    onNone: () => run(argv)
  })

const run = (argv: ReadonlyArray<string>): Effect.Effect<void, Exit> =>
  cli(["node", "cdf-fn", "emulator", ...argv]).pipe(
    Effect.catchIf(ValidationError.isValidationError, () => Effect.fail(new Exit({ code: EXIT_USAGE }))),
    Effect.provide(NodeContext.layer)
  )
