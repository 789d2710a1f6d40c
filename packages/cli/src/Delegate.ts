/**
 * The commands written with `@effect/cli` (`emulator` in `commands/Emulator.ts`, `durable` in
 * `commands/Durable.ts`): the words after `cdf-fn emulator` or `cdf-fn durable` are read by that parser,
 * and loaded only when such a command runs.
 *
 * @since 0.1.0
 */
import { CliConfig, Command, CommandDescriptor, ValidationError } from "@effect/cli"
import type { HelpDoc } from "@effect/cli"
import type { Span } from "@effect/cli/HelpDoc/Span"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, HashMap, Option } from "effect"
import * as Durable from "./commands/Durable.js"
import * as Emulator from "./commands/Emulator.js"
import { table, WIDTH, wrap } from "./Help.js"
import { Exit, EXIT_USAGE } from "./Output.js"
import { VERSION } from "./Tree.js"

const cli = Command.run(Command.make("cdf-fn").pipe(Command.withSubcommands([Emulator.command, Durable.command])), {
  name: "cdf-fn",
  version: VERSION
})

/** The name of a delegated command. */
export type Name = "emulator" | "durable"

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

const entriesOf = <N extends string, R, E, A>(command: Command.Command<N, R, E, A>) => ({
  help: Command.getHelp(command, config),
  subcommands: Array.from(HashMap.entries(Command.getSubcommands(command)))
})

/** The delegated commands by name: their help and subcommands. */
const commands: Record<Name, ReturnType<typeof entriesOf>> = {
  emulator: entriesOf(Emulator.command),
  durable: entriesOf(Durable.command)
}

const describe = (doc: HelpDoc.HelpDoc) =>
  sections(doc).find((section) => section.header === "DESCRIPTION")?.paragraphs.join(" ") ?? ""

/**
 * The help of the `emulator` (or `durable`) commands in the form of every other `cdf-fn` help: plain text
 * at 80 columns, the whole command in the usage line, no boilerplate under each option.
 */
export const help = (argv: ReadonlyArray<string>, name: Name = "emulator"): Option.Option<string> => {
  const { subcommands } = commands[name]
  const words = argv.filter((word) => !word.startsWith("-"))
  const asked = argv.includes("--help") || argv.includes("-h") || words.length === 0
  if (!asked) return Option.none()
  const sub = subcommands.find(([name]) => name === words[0])
  if (sub === undefined) {
    return Option.some(
      [
        `Usage: cdf-fn ${name} <command> [options]`,
        "",
        ...wrap(describe(commands[name].help), WIDTH),
        "",
        "Commands:",
        ...table(
          subcommands.map(([name, descriptor]) => [name, describe(CommandDescriptor.getHelp(descriptor, config))])
        ),
        "",
        `Run \`cdf-fn ${name} <command> --help\` for its options.`
      ].join("\n") + "\n"
    )
  }
  const parts = sections(CommandDescriptor.getHelp(sub[1], config))
  const options = parts.filter((section) => section.header !== "USAGE").flatMap((section) => section.definitions)
  return Option.some(
    [
      `Usage: cdf-fn ${name} ${sub[0]} [options]`,
      "",
      ...wrap(describe(CommandDescriptor.getHelp(sub[1], config)), WIDTH),
      ...(options.length === 0 ? [] : ["", "Options:", ...table(options)])
    ].join("\n") + "\n"
  )
}

/** Runs `cdf-fn <name> <argv>`; a usage error (printed by `@effect/cli`) exits 2. */
export const delegate = (name: Name, argv: ReadonlyArray<string>): Effect.Effect<void, Exit> =>
  Option.match(help(argv, name), {
    onSome: (text) => Effect.sync(() => void process.stdout.write(text)),
    onNone: () => run(name, argv)
  })

/** Runs `cdf-fn emulator <argv>`. */
export const emulator = (argv: ReadonlyArray<string>): Effect.Effect<void, Exit> => delegate("emulator", argv)

/** Whether a delegated command of that name exists. */
export const isName = (name: string): name is Name => name === "emulator" || name === "durable"

const run = (name: Name, argv: ReadonlyArray<string>): Effect.Effect<void, Exit> =>
  cli(["node", "cdf-fn", name, ...argv]).pipe(
    Effect.catchIf(ValidationError.isValidationError, () => Effect.fail(new Exit({ code: EXIT_USAGE }))),
    Effect.provide(NodeContext.layer)
  )
