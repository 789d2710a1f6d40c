/**
 * The shape of a command line as plain data: commands, their options and arguments, with the types of
 * the values they parse to. The tree is data so that `--help`, "did you mean" and usage errors need no
 * module of the SDK or of Effect: `cdf-fn --help` loads only this and the tree.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"

/** An option: `--name VALUE`, or a flag. Its key in the values is the camelCase form of its name. */
export type OptionSpec =
  | { readonly kind: "boolean"; readonly description: string; readonly alias?: string | undefined }
  | {
    readonly kind: "text"
    readonly placeholder: string
    readonly description: string
    readonly default?: string | undefined
    readonly required?: boolean | undefined
  }
  | {
    readonly kind: "integer"
    readonly placeholder: string
    readonly description: string
    readonly default?: number | undefined
    readonly required?: boolean | undefined
  }
  | {
    readonly kind: "choice"
    readonly placeholder: string
    readonly choices: ReadonlyArray<string>
    readonly description: string
  }

/** A positional argument; a variadic one takes one or more values and comes last. */
export interface ArgSpec {
  readonly name: string
  readonly description: string
  readonly variadic?: boolean | undefined
}

/** A command that runs. */
export interface Leaf<
  O extends Readonly<Record<string, OptionSpec>> = Readonly<Record<string, OptionSpec>>,
  A extends Readonly<Record<string, ArgSpec>> = Readonly<Record<string, ArgSpec>>
> {
  readonly _tag: "Leaf"
  readonly name: string
  readonly summary: string
  /** Paragraphs shown under the usage line in `--help`. */
  readonly details: ReadonlyArray<string>
  readonly options: O
  /** Options shared with other commands, listed after the command's own in `--help`. */
  readonly common: Readonly<Record<string, OptionSpec>>
  readonly args: A
  readonly examples: ReadonlyArray<string>
}

/** A command with subcommands. */
export interface Group {
  readonly _tag: "Group"
  readonly name: string
  readonly summary: string
  readonly commands: ReadonlyArray<Leaf>
}

/**
 * A command whose words after its name are read by another parser (the emulator's own command line, in
 * `@effect/cli`): its help is its own.
 */
export interface Delegate {
  readonly _tag: "Delegate"
  readonly name: string
  readonly summary: string
}

/** The root: the program's name, its commands, and the text of `cdf-fn --help`. */
export interface Root {
  readonly name: string
  readonly version: string
  readonly summary: string
  readonly commands: ReadonlyArray<Leaf | Group | Delegate>
  readonly details: ReadonlyArray<string>
}

type OptionValue<S> = S extends { readonly kind: "boolean" } ? boolean
  : S extends { readonly kind: "integer"; readonly default: number } ? number
  : S extends { readonly kind: "integer"; readonly required: true } ? number
  : S extends { readonly kind: "integer" } ? number | undefined
  : S extends { readonly kind: "choice"; readonly choices: ReadonlyArray<infer C> } ? C | undefined
  : S extends { readonly kind: "text"; readonly default: string } ? string
  : S extends { readonly kind: "text"; readonly required: true } ? string
  : string | undefined

type ArgValue<S> = S extends { readonly variadic: true } ? ReadonlyArray<string> : string

/** The values a leaf parses to: one key per option and per argument. */
export type Values<L> = L extends Leaf<infer O, infer A> ?
    & { readonly [K in keyof O]: OptionValue<O[K]> }
    & { readonly [K in keyof A]: ArgValue<A[K]> }
  : never

/** Parsed values before they are given their types. */
export type Parsed = Readonly<Record<string, string | number | boolean | ReadonlyArray<string> | undefined>>

/** What a command runs: its values in, the exit code's carrier out (see `Output.Exit`). */
export type Runner = (values: Parsed) => Effect.Effect<void, unknown>

/** A flag (`--json`, `-f`). */
export const flag = (description: string, alias?: string) => ({ kind: "boolean", description, alias }) as const

/** An option with a text value (`--name NAME`). */
export const text = (placeholder: string, description: string) => ({ kind: "text", placeholder, description }) as const

/** An option with a text value that must be given. */
export const requiredText = (placeholder: string, description: string) =>
  ({ kind: "text", placeholder, description, required: true }) as const

/** An option with an integer value. */
export const integer = (placeholder: string, description: string) =>
  ({ kind: "integer", placeholder, description }) as const

/** An option with an integer value that must be given. */
export const requiredInteger = (placeholder: string, description: string) =>
  ({ kind: "integer", placeholder, description, required: true }) as const

/** An option with an integer value, `fallback` when it is not given. */
export const integerOr = (placeholder: string, description: string, fallback: number) =>
  ({ kind: "integer", placeholder, description, default: fallback }) as const

/** An option with one of `choices`. */
export const choice = <const C extends ReadonlyArray<string>>(placeholder: string, choices: C, description: string) =>
  ({ kind: "choice", placeholder, choices, description }) as const

/** A positional argument. */
export const arg = (name: string, description: string) => ({ name, description }) as const

/** A positional argument taking one or more values. */
export const args = (name: string, description: string) => ({ name, description, variadic: true }) as const

/** A command. */
export const leaf = <
  const O extends Readonly<Record<string, OptionSpec>> = Record<never, OptionSpec>,
  const A extends Readonly<Record<string, ArgSpec>> = Record<never, ArgSpec>,
  const C extends Readonly<Record<string, OptionSpec>> = Record<never, OptionSpec>
>(spec: {
  readonly name: string
  readonly summary: string
  readonly details?: ReadonlyArray<string>
  readonly options?: O
  readonly common?: C
  readonly args?: A
  readonly examples?: ReadonlyArray<string>
}): Leaf<O & C, A> => {
  const options = { ...spec.options, ...spec.common } as O & C // the union of two records of the same kind
  return {
    _tag: "Leaf",
    name: spec.name,
    summary: spec.summary,
    details: spec.details ?? [],
    options,
    common: spec.common ?? {},
    args: spec.args ?? ({} as A), // no arguments
    examples: spec.examples ?? []
  }
}

/** A command group. */
export const group = (name: string, summary: string, commands: ReadonlyArray<Leaf>): Group => ({
  _tag: "Group",
  name,
  summary,
  commands
})

/** `baseUrl` -> `base-url`: the flag of an option key. */
export const flagName = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/**
 * Gives a command's body its typed values. The values come from `Parse.parse` over the same leaf, which
 * checks every kind, choice and count, so they have the leaf's types by construction.
 */
export const handler = <L extends Leaf>(
  _leaf: L,
  body: (values: Values<L>) => Effect.Effect<void, unknown>
): Runner =>
(values) => body(values as Values<L>)
