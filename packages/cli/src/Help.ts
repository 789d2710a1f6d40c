/**
 * `--help` text, written from the command tree for a person at an 80-column terminal: plain text (no
 * escape codes, so it reads the same piped, in a file or with `NO_COLOR`), descriptions wrapped with a
 * hanging indent, and the full command in every usage line.
 *
 * @since 0.1.0
 */
import type { Group, Leaf, OptionSpec, Root } from "./Spec.js"
import { flagName } from "./Spec.js"

/** The width help is wrapped at. */
export const WIDTH = 80

/** Words of `text` in lines of at most `width` columns (a longer word gets a line of its own). */
export const wrap = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line.length === 0 ? word : `${line} ${word}`
    }
  }
  if (line.length > 0) lines.push(line)
  return lines
}

/** Two columns: a term and its description, wrapped under itself; a long term puts the text below it. */
export const table = (rows: ReadonlyArray<readonly [string, string]>, indent = 2): Array<string> => {
  const widest = Math.max(0, ...rows.map(([term]) => term.length))
  const column = Math.min(indent + widest + 2, 30)
  return rows.flatMap(([term, description]) => {
    const text = wrap(description, WIDTH - column)
    const head = " ".repeat(indent) + term
    if (head.length + 2 > column) {
      return [head, ...text.map((line) => " ".repeat(column) + line)]
    }
    const [firstLine = "", ...others] = text
    return [head.padEnd(column) + firstLine, ...others.map((line) => " ".repeat(column) + line)]
  }).map((line) => line.trimEnd())
}

const paragraph = (text: string): Array<string> => wrap(text, WIDTH)

const optionTerm = (key: string, spec: OptionSpec): string => {
  const flag = `--${flagName(key)}`
  switch (spec.kind) {
    case "boolean":
      return spec.alias === undefined ? flag : `-${spec.alias}, ${flag}`
    case "text":
    case "integer":
      return `${flag} ${spec.placeholder}`
    case "choice":
      return `${flag} ${spec.placeholder}`
  }
}

const optionText = (spec: OptionSpec): string => {
  const fallback = spec.kind === "text" || spec.kind === "integer"
    ? spec.default === undefined ? "" : ` (default ${spec.default})`
    : ""
  const choices = spec.kind === "choice" ? `: ${spec.choices.join(", ")}` : ""
  const required = (spec.kind === "text" || spec.kind === "integer") && spec.required === true ? " (required)" : ""
  return `${spec.description}${choices}${fallback}${required}`
}

/** The usage line of a command: `cdf-fn functions deploy <folder> [options]`. */
export const usageLine = (root: Root, path: ReadonlyArray<string>, leaf: Leaf): string => {
  const args = Object.values(leaf.args).map((a) => (a.variadic === true ? `<${a.name}>...` : `<${a.name}>`))
  return [root.name, ...path, ...args, ...(Object.keys(leaf.options).length > 0 ? ["[options]"] : [])].join(" ")
}

/** The help of the root, a group or a command. */
export const render = (root: Root, path: ReadonlyArray<string>, node: Root | Group | Leaf): string => {
  const lines: Array<string> = []
  if (!("_tag" in node)) {
    lines.push(`${root.name} ${root.version}: ${root.summary}`, "", `Usage: ${root.name} <command> [options]`, "")
    lines.push("Commands:", ...table(root.commands.map((c) => [c.name, c.summary])), "")
    for (const text of root.details) lines.push(...paragraph(text), "")
    lines.push(...paragraph(`Run \`${root.name} <command> --help\` for the options of a command.`))
  } else if (node._tag === "Group") {
    lines.push(`Usage: ${root.name} ${path.join(" ")} <command> [options]`, "", ...paragraph(node.summary), "")
    lines.push("Commands:", ...table(node.commands.map((c) => [c.name, c.summary])), "")
    lines.push(...paragraph(`Run \`${root.name} ${path.join(" ")} <command> --help\` for its options.`))
  } else {
    lines.push(`Usage: ${usageLine(root, path, node)}`, "", ...paragraph(`${node.summary}.`))
    for (const text of node.details) lines.push("", ...paragraph(text))
    const args = Object.values(node.args)
    if (args.length > 0) {
      lines.push("", "Arguments:", ...table(args.map((a) => [`<${a.name}>`, a.description])))
    }
    const own = Object.entries(node.options).filter(([key]) => !(key in node.common))
    if (own.length > 0) {
      lines.push("", "Options:", ...table(own.map(([key, spec]) => [optionTerm(key, spec), optionText(spec)])))
    }
    const common = Object.entries(node.common)
    if (common.length > 0) {
      lines.push(
        "",
        "Target and output options:",
        ...table(common.map(([key, spec]) => [optionTerm(key, spec), optionText(spec)]))
      )
    }
    if (node.examples.length > 0) lines.push("", "Examples:", ...node.examples.map((e) => `  $ ${e}`))
  }
  return `${lines.join("\n").trimEnd()}\n`
}
