/**
 * What the CLI prints and how it ends: human output (lines, tables, colors on a TTY) or one JSON document
 * with `--json`, and every error as one readable line on stderr with its exit code.
 *
 * Exit codes: 0 success; 1 the call (or deployment) failed or timed out; 2 bad usage or input; 3 an API,
 * auth or transport error; 130 interrupted (Ctrl-C).
 *
 * @since 0.1.0
 */
import type { CallFailed, CallOutcomeUnknown, DeployFailed } from "@effect-cdf/core/Errors"
import { CdfError } from "@effect-cdf/core/Errors"
import { ConfigError, Context, Data, Effect, Either, FiberRef, HashMap, Layer, Schema } from "effect"

/** Success. */
export const EXIT_OK = 0
/** The call or deployment failed or timed out. */
export const EXIT_FAILED = 1
/** Bad usage or input: nothing was sent, or the input was refused. */
export const EXIT_USAGE = 2
/** An API, auth or transport error. */
export const EXIT_API = 3
/** Interrupted (Ctrl-C), as shells report SIGINT. */
export const EXIT_INTERRUPTED = 130

/**
 * Set while a command prints its own hint on Ctrl-C (the call id and `cdf-fn await`, or the send and
 * `cdf-fn calls reconcile`): the SDK's Warning saying the same in its API's words is then not printed.
 */
export const HINTS_INTERRUPTS: FiberRef.FiberRef<boolean> = FiberRef.unsafeMake(false)

/**
 * Whether a log is the SDK's own note of an interrupted call (`Calls.await(...)` / `Calls.reconcile(...)`
 * to find it): a Warning that begins "interrupted while" and carries the call's `startedAt` or `sentAt`.
 */
export const isInterruptNote = (
  message: unknown,
  annotations: HashMap.HashMap<string, unknown>
): boolean => {
  const first = Array.isArray(message) ? message[0] : message
  return typeof first === "string" && first.startsWith("interrupted while") &&
    (HashMap.has(annotations, "sentAt") || HashMap.has(annotations, "startedAt"))
}

/** Bad usage the CLI found itself: bad JSON in `--data`, a bad duration, a missing folder. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** Something other than the API went wrong: the emulator could not start, a file could not be read. */
export class EnvironmentError extends Data.TaggedError("EnvironmentError")<{ readonly message: string }> {}

/** A Function App answered with its error envelope (`status_code` >= 400). */
export class AppFailed extends Data.TaggedError("AppFailed")<{
  readonly callId: number
  readonly statusCode: number
  readonly errorType: string
  readonly detail: string
}> {
  override get message(): string {
    return `the app answered ${this.statusCode} ${this.errorType}: ${this.detail} (call ${this.callId})`
  }
}

/** The command already printed its error: the process ends with `code`. */
export class Exit extends Data.TaggedError("Exit")<{ readonly code: number }> {}

/** Every error a command can end with. */
export type CliError = CdfError | UsageError | EnvironmentError | AppFailed | ConfigError.ConfigError

/** How output is written. */
export class Output extends Context.Tag("@effect-cdf/cli/Output")<Output, Output.Service>() {}

/** The types of the `Output` service. */
export declare namespace Output {
  /** What commands print with. */
  export interface Service {
    /** `--json`: stdout gets exactly one JSON document. */
    readonly json: boolean
    /** Whether stderr is a terminal: progress lines are drawn only then. */
    readonly interactive: boolean
    /** ANSI styles, identity functions when colors are off. */
    readonly style: Styles
    /** Writes a line to stdout. */
    readonly line: (text?: string) => Effect.Effect<void>
    /** Writes a line to stderr. */
    readonly note: (text?: string) => Effect.Effect<void>
    /** Writes the one JSON document to stdout: `{"target", "result"}` for a command with a target. */
    readonly document: (value: unknown) => Effect.Effect<void>
    /** Writes the error document to stdout: `{"target"?, "error"}`. */
    readonly errorDocument: (error: Record<string, unknown>) => Effect.Effect<void>
    /** Records which server answers: the JSON documents name it. */
    readonly setTarget: (target: TargetInfo) => void
    /** Writes `value` as JSON with `--json`, else runs `human`. */
    readonly result: <R>(value: unknown, human: Effect.Effect<void, never, R>) => Effect.Effect<void, never, R>
    /** Writes a table (header row, then rows) to stdout. */
    readonly table: (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => Effect.Effect<void>
  }
}

/** Which server a command talked to, as its JSON document names it. */
export interface TargetInfo {
  readonly kind: "cdf" | "embedded"
  readonly baseUrl: string
  readonly project: string
}

/** Text styles. */
export interface Styles {
  readonly bold: (text: string) => string
  readonly dim: (text: string) => string
  readonly red: (text: string) => string
  readonly green: (text: string) => string
  readonly yellow: (text: string) => string
  readonly cyan: (text: string) => string
}

const ansi = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`
const plain = (text: string) => text

/** The styles: ANSI codes when `enabled`, plain text otherwise. */
export const styles = (enabled: boolean): Styles =>
  enabled
    ? {
      bold: ansi(1, 22),
      dim: ansi(2, 22),
      red: ansi(31, 39),
      green: ansi(32, 39),
      yellow: ansi(33, 39),
      cyan: ansi(36, 39)
    }
    : { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain }

/** Whether colors may be used on a stream: it is a TTY and `NO_COLOR` is not set (no-color.org). */
export const colorsEnabled = (stream: { readonly isTTY?: boolean | undefined }): boolean => {
  const noColor = process.env.NO_COLOR
  return stream.isTTY === true && (noColor === undefined || noColor === "") && process.env.TERM !== "dumb"
}

/** Drops ANSI escape sequences, for measuring and for plain output. */
export const stripAnsi = (text: string): string => text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "")

const write = (stream: NodeJS.WriteStream, text: string) => Effect.sync(() => void stream.write(text))

/**
 * The output service for a command: `json` from its `--json` flag, styles from the terminal. With
 * `targeted`, documents are `{"target": ..., "result": ...}` so a script sees which server answered.
 */
export const make = (json: boolean, targeted = false): Output.Service => {
  const style = styles(colorsEnabled(process.stdout))
  const line = (text = "") => write(process.stdout, `${text}\n`)
  let target: TargetInfo | undefined
  const print = (value: unknown) => line(JSON.stringify(value, jsonReplacer, 2))
  const document = (value: unknown) => print(targeted ? { target: target ?? null, result: value } : value)
  return {
    json,
    interactive: process.stderr.isTTY === true,
    style,
    line,
    note: (text = "") => write(process.stderr, `${text}\n`),
    document,
    errorDocument: (error) => print(target === undefined ? { error } : { target, error }),
    setTarget: (info) => {
      target = { kind: info.kind, baseUrl: info.baseUrl, project: info.project }
    },
    result: <R>(value: unknown, human: Effect.Effect<void, never, R>) => (json ? document(value) : human),
    table: (header, rows) => {
      const widths = header.map((title, i) =>
        Math.max(stripAnsi(title).length, ...rows.map((row) => stripAnsi(row[i] ?? "").length))
      )
      const format = (cells: ReadonlyArray<string>) =>
        cells.map((cell, i) =>
          i === cells.length - 1 ? cell : cell + " ".repeat(Math.max(0, (widths[i] ?? 0) - stripAnsi(cell).length))
        ).join("  ").trimEnd()
      return Effect.forEach(
        [style.bold(format(header)), ...(rows.length === 0 ? [style.dim("(none)")] : rows.map(format))],
        (text) => line(text),
        { discard: true }
      )
    }
  }
}

/** The output service as a layer. */
export const layer = (json: boolean): Layer.Layer<Output> => Layer.succeed(Output, make(json))

/** Turns values JSON cannot hold into ones it can: `Redacted` never reaches here, maps and sets do. */
const jsonReplacer = (_key: string, value: unknown): unknown =>
  value instanceof Map ? Object.fromEntries(value) : value instanceof Set ? [...value] : value

/** How an error is reported: its exit code, the lines for stderr, and the JSON form for `--json`. */
export interface Report {
  readonly code: number
  readonly lines: ReadonlyArray<string>
  readonly json: Record<string, unknown>
}

const indent = (text: string, by = "    ") => text.replace(/\s+$/, "").split("\n").map((line) => by + line)

const encodeCdfError = Schema.encodeEither(CdfError)

const cdfJson = (error: CdfError): Record<string, unknown> =>
  Either.match(encodeCdfError(error), {
    onLeft: () => ({ _tag: error._tag }),
    onRight: (encoded) => ({ ...encoded })
  })

/** The lines of a failed call or deployment: its message, then its trace (the Python traceback) indented. */
export const failureLines = (error: CallFailed | DeployFailed, style: Styles): Array<string> => [
  `${style.red("error:")} ${error._tag}: ${error.message}`,
  ...(error.trace === undefined || error.trace.trim() === "" ? [] : ["  trace:", ...indent(error.trace).map(style.dim)])
]

/** Describes an error for the user: one line (plus a trace or a request id where useful) and its exit code. */
export const report = (error: CliError, style: Styles): Report => {
  const head = (text: string) => `${style.red("error:")} ${text}`
  if (ConfigError.isConfigError(error)) {
    const problems = configProblems(error)
    return {
      code: EXIT_USAGE,
      lines: [
        head(problems.length === 1 ? `configuration: ${problems[0]}` : "configuration:"),
        ...(problems.length === 1 ? [] : problems.map((problem) => `  - ${problem}`)),
        "  (with no CDF variable set at all, or with --emulator, commands use the embedded emulator)"
      ],
      json: { _tag: "ConfigError", message: problems.join("; "), problems }
    }
  }
  switch (error._tag) {
    case "UsageError":
    case "EnvironmentError":
      return {
        code: error._tag === "UsageError" ? EXIT_USAGE : EXIT_API,
        lines: [head(error.message)],
        json: { _tag: error._tag, message: error.message }
      }
    case "AppFailed":
      return {
        code: EXIT_FAILED,
        lines: [head(`AppFailed: ${error.message}`)],
        json: {
          _tag: error._tag,
          message: error.message,
          callId: error.callId,
          statusCode: error.statusCode,
          errorType: error.errorType
        }
      }
    case "CallFailed":
    case "DeployFailed":
      return {
        code: EXIT_FAILED,
        lines: failureLines(error, style),
        json: { ...cdfJson(error), message: error.message }
      }
    case "CallTimedOut":
      return {
        code: EXIT_FAILED,
        lines: [head(`CallTimedOut: ${error.message}`)],
        json: { ...cdfJson(error), message: error.message }
      }
    case "PollDeadlineExceeded":
      return {
        code: EXIT_FAILED,
        lines: [
          head(`PollDeadlineExceeded: ${error.message}`),
          `  resume waiting with: ${
            resumeCommand(error.handle.functionId, error.handle.callId, error.handle.startedAt)
          }`
        ],
        json: { ...cdfJson(error), message: error.message }
      }
    case "InvalidInput":
      return {
        code: EXIT_USAGE,
        lines: [head(`InvalidInput: ${error.message}`)],
        json: { ...cdfJson(error), message: error.message }
      }
    case "BadRequest":
    case "Unauthorized":
    case "Forbidden":
    case "NotFound":
    case "Conflict":
    case "RateLimited":
    case "ServerError":
    case "UnexpectedStatus": {
      const what = error.request === undefined ? "" : ` on ${error.request.method} ${error.request.path}`
      const items = "missing" in error && error.missing.length > 0
        ? ` (missing: ${error.missing.map((item) => JSON.stringify(item)).join(", ")})`
        : ""
      const hint = error._tag === "Unauthorized"
        ? ["  the token was not accepted: check COGNITE_TOKEN or CDF_TOKEN (or the client credentials) and the project"]
        : []
      return {
        code: EXIT_API,
        lines: [
          head(`${error._tag} (HTTP ${error.status}${what}): ${error.message}${items}`),
          ...(error.requestId === undefined ? [] : [`  request id: ${error.requestId}`]),
          ...hint
        ],
        json: { ...cdfJson(error), message: error.message }
      }
    }
    case "DecodeError":
      return {
        code: EXIT_API,
        lines: [
          head(`DecodeError: ${error.message}`),
          ...(error.requestId === undefined ? [] : [`  request id: ${error.requestId}`])
        ],
        json: { ...cdfJson(error), message: error.message }
      }
    case "CallOutcomeUnknown":
      return {
        code: EXIT_API,
        lines: [head(`CallOutcomeUnknown: ${error.message}`), ...evidenceLines(error)],
        json: { ...cdfJson(error), message: error.message }
      }
    case "TransportError":
    case "AuthenticationFailed":
    case "UntrustedUrl":
      return {
        code: EXIT_API,
        lines: [head(`${error._tag}: ${error.message}`)],
        json: { ...cdfJson(error), message: error.message }
      }
  }
}

/** Every problem a configuration error holds, one sentence each (an `And` of several lists them all). */
export const configProblems = (error: ConfigError.ConfigError): Array<string> => {
  const seen: Array<string> = []
  const visit = (e: ConfigError.ConfigError): void => {
    switch (e._op) {
      case "And":
      case "Or":
        visit(e.left)
        visit(e.right)
        return
      case "InvalidData":
      case "MissingData":
      case "SourceUnavailable":
      case "Unsupported": {
        const text = e.message.includes(e.path.join(".")) || e.path.length === 0
          ? e.message
          : `${e.path.join(".")}: ${e.message}`
        if (!seen.includes(text)) seen.push(text)
      }
    }
  }
  visit(error)
  return seen
}

/** The command that resumes waiting on a call (`--started-at` keeps the handle whole). */
export const resumeCommand = (functionId: number, callId: number, startedAt?: number): string =>
  `cdf-fn await ${functionId} ${callId}${startedAt === undefined ? "" : ` --started-at ${startedAt}`}`

/** The command that finds the call a send that was cut off may have created. */
export const reconcileCommand = (functionId: number, sentAt: number, sessionId?: number): string =>
  `cdf-fn calls reconcile ${functionId} --sent-at ${sentAt}${
    sessionId === undefined ? "" : ` --session-id ${sessionId}`
  }`

/** What a `CallOutcomeUnknown` proves, for a person: whether calling again is safe, or which calls to look at. */
export const evidenceLines = (error: CallOutcomeUnknown): Array<string> => {
  const fn = error.functionId
  const candidates = error.candidates ?? []
  const sent = `  sent at ${error.sentAt} (${timestamp(error.sentAt)})${
    error.sessionId === undefined ? "" : `, session ${error.sessionId}`
  }`
  const look = fn === undefined || candidates.length === 0
    ? []
    : [`  candidate calls: ${candidates.join(", ")} (look at one with: cdf-fn calls get ${fn} ${candidates[0]})`]
  switch (error.evidence) {
    case "NotCreated":
      return [
        sent,
        "  evidence: NotCreated: the call was not created (its session was never used and is now revoked); " +
        "calling again is safe"
      ]
    case "Created":
      return [
        sent,
        "  evidence: Created: the call was created, but it cannot be told apart from other calls started then",
        ...look
      ]
    default:
      return [
        sent,
        "  evidence: None: nothing proves whether the call was created; do not call again before checking",
        ...look,
        ...(fn === undefined ? [] : [`  the calls started since: cdf-fn calls list ${fn}`])
      ]
  }
}

/** Prints an error (stderr, and stdout as `{"error": ...}` with `--json`) and ends the command with its code. */
export const fail = (error: CliError): Effect.Effect<never, Exit, Output> =>
  Effect.gen(function*() {
    const out = yield* Output
    const described = report(error, styles(colorsEnabled(process.stderr)))
    for (const text of described.lines) yield* out.note(text)
    if (out.json) yield* out.errorDocument(described.json)
    return yield* new Exit({ code: described.code })
  })

/** Milliseconds as seconds for people: `0.4 s`, `12 s`. */
export const seconds = (millis: number): string =>
  millis < 10_000 ? `${(millis / 1000).toFixed(1)} s` : `${Math.round(millis / 1000)} s`

/** An epoch-milliseconds timestamp as `2025-01-31 12:00:00Z`. */
export const timestamp = (millis: number | undefined): string =>
  millis === undefined ? "" : `${new Date(millis).toISOString().replace("T", " ").slice(0, 19)}Z`

/** A value as compact JSON for one line. */
export const compact = (value: unknown): string => JSON.stringify(value, jsonReplacer) ?? "null"

/** A value as indented JSON. */
export const pretty = (value: unknown): string => JSON.stringify(value, jsonReplacer, 2) ?? "null"
