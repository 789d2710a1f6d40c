/**
 * Reads a command line against the command tree with Node's own `util.parseArgs`: which command, its
 * values checked against their kinds, or a usage error that says what was wrong and what was probably
 * meant ("did you mean"). Nothing here loads Effect or the SDK.
 *
 * @since 0.1.0
 */
import { parseArgs } from "node:util"
import type { Group, Leaf, OptionSpec, Parsed, Root } from "./Spec.js"
import { flagName } from "./Spec.js"

/** What a command line asks for. */
export type Outcome =
  | { readonly _tag: "Help"; readonly path: ReadonlyArray<string>; readonly node: Root | Group | Leaf }
  | { readonly _tag: "Version" }
  | { readonly _tag: "Delegate"; readonly name: string; readonly argv: ReadonlyArray<string> }
  | { readonly _tag: "Run"; readonly path: ReadonlyArray<string>; readonly leaf: Leaf; readonly values: Parsed }
  | UsageProblem

/** A command line that cannot run: nothing was sent. */
export interface UsageProblem {
  readonly _tag: "Usage"
  readonly message: string
  /** The closest valid word, when one is close enough to be a typo. */
  readonly suggestion?: string | undefined
  /** A line on what to do instead. */
  readonly hint?: string | undefined
}

/** Edit distance with transpositions (`fucntions` is one edit from `functions`). */
export const distance = (a: string, b: string): number => {
  const d: Array<Array<number>> = Array.from({ length: a.length + 1 }, (_, i) => [i])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
      }
    }
  }
  return d[a.length][b.length]
}

/** The candidate `input` was most likely meant to be: a prefix of it, or within a third of its length. */
export const suggest = (input: string, candidates: ReadonlyArray<string>): string | undefined => {
  const lower = input.toLowerCase()
  const prefixed = candidates.filter((c) => lower.length >= 2 && c.toLowerCase().startsWith(lower))
  if (prefixed.length === 1) return prefixed[0]
  const ranked = candidates
    .map((candidate) => ({ candidate, d: distance(lower, candidate.toLowerCase()) }))
    .filter(({ candidate, d }) => d <= Math.max(1, Math.floor(Math.max(candidate.length, lower.length) / 3)))
    .sort((x, y) => x.d - y.d)
  return ranked[0]?.candidate
}

const usage = (message: string, suggestion?: string, hint?: string): UsageProblem => ({
  _tag: "Usage",
  message: suggestion === undefined ? message : `${message}; did you mean ${suggestion}?`,
  suggestion,
  hint
})

const isHelp = (token: string) => token === "--help" || token === "-h"

/** Reads `argv` (without the runtime and script). */
export const parse = (root: Root, argv: ReadonlyArray<string>): Outcome => {
  const end = argv.indexOf("--")
  const before = end === -1 ? argv : argv.slice(0, end)
  const first = argv[0]
  if (first === undefined || (isHelp(first) && argv.length === 1)) return { _tag: "Help", path: [], node: root }
  if (first === "--version" || first === "-V") return { _tag: "Version" }
  if (first.startsWith("-")) {
    if (before.some(isHelp)) return { _tag: "Help", path: [], node: root }
    return usage(`${first} before a command`, undefined, `put the command first: ${root.name} <command> [options]`)
  }
  const command = root.commands.find((c) => c.name === first)
  if (command === undefined) {
    return usage(
      `unknown command "${first}"`,
      suggest(first, root.commands.map((c) => c.name)),
      `${root.name} --help lists the commands`
    )
  }
  if (command._tag === "Leaf") return parseLeaf(root, [command.name], command, argv.slice(1))
  if (command._tag === "Delegate") return { _tag: "Delegate", name: command.name, argv: argv.slice(1) }
  const sub = argv[1]
  const names = command.commands.map((c) => c.name)
  if (sub === undefined || sub.startsWith("-")) {
    if (sub === undefined || before.some(isHelp)) return { _tag: "Help", path: [command.name], node: command }
    return usage(
      `${root.name} ${command.name} needs a command first: ${names.join(", ")}`,
      undefined,
      `${root.name} ${command.name} --help lists them`
    )
  }
  const leaf = command.commands.find((c) => c.name === sub)
  if (leaf === undefined) {
    const close = suggest(sub, names)
    return usage(
      `unknown command "${command.name} ${sub}"`,
      close === undefined ? undefined : `${command.name} ${close}`,
      `the ${command.name} commands: ${names.join(", ")}`
    )
  }
  return parseLeaf(root, [command.name, leaf.name], leaf, argv.slice(2))
}

const parseLeaf = (root: Root, path: ReadonlyArray<string>, leaf: Leaf, rest: ReadonlyArray<string>): Outcome => {
  const end = rest.indexOf("--")
  if ((end === -1 ? rest : rest.slice(0, end)).some(isHelp)) return { _tag: "Help", path, node: leaf }
  const byFlag = new Map<string, readonly [string, OptionSpec]>(
    Object.entries(leaf.options).map(([key, spec]) => [flagName(key), [key, spec]] as const)
  )
  const config: Record<string, { type: "string" | "boolean"; short?: string }> = {}
  for (const [flag, [, spec]] of byFlag) {
    config[flag] = spec.kind === "boolean"
      ? { type: "boolean", ...(spec.alias === undefined ? {} : { short: spec.alias }) }
      : { type: "string" }
  }
  const { tokens } = parseArgs({
    args: [...rest],
    options: config,
    allowPositionals: true,
    strict: false,
    tokens: true
  })
  const command = `${root.name} ${path.join(" ")}`
  const values: Record<string, string | number | boolean | ReadonlyArray<string> | undefined> = {}
  const positionals: Array<string> = []
  for (const token of tokens) {
    if (token.kind === "positional") {
      positionals.push(token.value)
      continue
    }
    if (token.kind !== "option") continue
    const known = byFlag.get(token.name)
    if (known === undefined) {
      const close = suggest(token.name, [...byFlag.keys()])
      return usage(
        `unknown option ${token.rawName} for ${command}`,
        close === undefined ? undefined : `--${close}`,
        `${command} --help lists its options`
      )
    }
    const [key, spec] = known
    const read = readValue(token.rawName, spec, token.value, byFlag)
    if (read._tag === "Usage") return read
    values[key] = read.value
  }
  for (const [key, spec] of Object.entries(leaf.options)) {
    if (key in values) continue
    if ((spec.kind === "text" || spec.kind === "integer") && spec.required === true) {
      return usage(`${command} needs --${flagName(key)} ${spec.placeholder}`, undefined, usageHint(command))
    }
    values[key] = spec.kind === "boolean" ? false : spec.kind === "choice" ? undefined : spec.default
  }
  const args = Object.entries(leaf.args)
  for (const [i, [key, spec]] of args.entries()) {
    if (spec.variadic === true) {
      const taken = positionals.splice(0)
      if (taken.length === 0) {
        return usage(`${command} needs at least one <${spec.name}>`, undefined, usageHint(command))
      }
      values[key] = taken
    } else {
      const taken = positionals.shift()
      if (taken === undefined) {
        const names = args.slice(i).map(([, a]) => `<${a.name}>`).join(" ")
        return usage(`${command} needs ${names}`, undefined, usageHint(command))
      }
      values[key] = taken
    }
  }
  if (positionals.length > 0) {
    return usage(`unexpected argument "${positionals[0]}" for ${command}`, undefined, usageHint(command))
  }
  return { _tag: "Run", path, leaf, values }
}

const usageHint = (command: string) => `${command} --help shows its usage`

const readValue = (
  raw: string,
  spec: OptionSpec,
  value: string | undefined,
  byFlag: ReadonlyMap<string, unknown>
): UsageProblem | { readonly _tag: "Value"; readonly value: string | number | boolean } => {
  if (spec.kind === "boolean") {
    return value === undefined ? { _tag: "Value", value: true } : usage(`${raw} takes no value (got "${value}")`)
  }
  if (value === undefined || (value.startsWith("--") && byFlag.has(value.slice(2).split("=")[0] ?? ""))) {
    const what = spec.kind === "choice" ? spec.choices.join(", ") : spec.placeholder
    return usage(`${raw} needs a value (${what})`)
  }
  switch (spec.kind) {
    case "text":
      return { _tag: "Value", value }
    case "integer": {
      const n = Number(value)
      return /^-?\d+$/.test(value.trim()) && Number.isSafeInteger(n)
        ? { _tag: "Value", value: n }
        : usage(`${raw} must be an integer, got "${value}"`)
    }
    case "choice": {
      const match = spec.choices.find((c) => c === value) ??
        spec.choices.find((c) => c.toLowerCase() === value.toLowerCase())
      return match !== undefined
        ? { _tag: "Value", value: match }
        : usage(`${raw} must be one of ${spec.choices.join(", ")}, got "${value}"`, suggest(value, spec.choices))
    }
  }
}
