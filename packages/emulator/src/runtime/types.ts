/**
 * The data types the handler runtime shares between its modules. `Runtime.ts` re-exports them; they live
 * here so the runtime's internal modules can use them without importing `Runtime.ts` back.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/** An unzipped code bundle: POSIX path inside the zip to the file's bytes. Directories are implied. */
export interface CodeBundle {
  readonly files: ReadonlyMap<string, Uint8Array>
}

/** Why a function could not be deployed. `message` reads like CDF's; `trace` holds the specific reason. */
export class DeployProblem extends Data.TaggedError("DeployProblem")<{
  readonly message: string
  readonly trace?: string
}> {}

/** The message CDF puts on a function whose deployment failed. */
export const deploymentFailed = "Function deployment failed."

/** A deploy problem with CDF's message and the given reason as its trace. */
export const deployProblem = (reason: string): DeployProblem =>
  new DeployProblem({ message: deploymentFailed, trace: reason })

/** The language a prepared handler runs in. */
export type HandlerKind = "python" | "javascript"

/** A validated handler, ready to run. */
export interface PreparedHandler {
  readonly kind: HandlerKind
  /**
   * The entry file as a POSIX path inside the bundle (`handler.py`, `src/handler.mjs`), or
   * `inprocess:NAME` for a handler registered with `registerInProcess`.
   */
  readonly entry: string
  /** The absolute directory the bundle was extracted to; empty for an in-process handler. */
  readonly dir: string
  /** The function this handler was prepared for. */
  readonly functionId: number
  /** The `functionPath` the handler was prepared with, normalised. */
  readonly functionPath: string
}

/** The `function_call_info` a handler receives. */
export interface FunctionCallInfo {
  readonly function_id: number
  readonly call_id: number
  readonly schedule_id: number | null
  readonly scheduled_time: string | null
}

/** One line a handler printed, with the wall-clock time (epoch ms) it was seen. */
export interface LogLine {
  readonly timestamp: number
  readonly message: string
}

/** One call of a prepared handler. */
export interface RunRequest {
  readonly handler: PreparedHandler
  /** The call's data. Absent data reaches the handler as `{}`, as the Python SDK sends it. */
  readonly data: unknown
  readonly secrets: Readonly<Record<string, string>>
  readonly callInfo: FunctionCallInfo
  /** Wall-clock limit: the worker or process is killed when it passes. */
  readonly timeoutMillis: number
  /** Memory cap: the worker's old-generation heap, or the Python process's address space. */
  readonly memoryMb: number
  /** The largest response, as JSON in UTF-8 bytes. */
  readonly responseSizeLimitBytes: number
  /** Called with each log line as it is printed, before the call ends. */
  readonly onLog?: (line: LogLine) => void
  /** The function's `envVars`, added to the environment of the worker or process. */
  readonly envVars?: Readonly<Record<string, string>>
}

/** How a call ended. Logs are in the order they were printed. */
export type RunOutcome =
  | { readonly status: "Completed"; readonly response: unknown; readonly logs: ReadonlyArray<LogLine> }
  | {
    readonly status: "Failed"
    readonly error: { readonly message: string; readonly trace?: string }
    readonly logs: ReadonlyArray<LogLine>
  }
  | { readonly status: "Timeout"; readonly error: { readonly message: string }; readonly logs: ReadonlyArray<LogLine> }

/** What an in-process handler receives; `log` adds a line to the call's logs. */
export interface InProcessInput {
  readonly data: unknown
  readonly secrets: Record<string, string>
  readonly functionCallInfo: FunctionCallInfo
  readonly log: (message: string) => void
}

/**
 * A handler that runs inside the emulator's own process, registered from code (for tests). It returns
 * the response, a promise of it, or an `Effect` needing no services (run on the call's fiber, so it
 * follows the Effect `Clock`). A thrown error, a rejection or a failure ends the call `Failed`.
 */
export type InProcessHandler = (input: InProcessInput) => unknown

/** Failed outcome helper. */
export const failed = (
  logs: ReadonlyArray<LogLine>,
  message: string,
  trace?: string
): RunOutcome =>
  trace === undefined
    ? { status: "Failed", error: { message }, logs }
    : { status: "Failed", error: { message, trace }, logs }

/** The message of a call that ran past its timeout. */
export const timeoutMessage = (timeoutMillis: number): string => `Function call timed out after ${timeoutMillis} ms.`

/** The message of a response over the size limit, naming the limit as CDF does. */
export const responseTooLargeMessage = (bytes: number, limit: number): string =>
  `Function response is too large: ${bytes} bytes exceeds the response size limit of ${limit} bytes` +
  ` (${Math.round((limit / (1024 * 1024)) * 100) / 100} MB).`

/** The message of a response that is not JSON. */
export const notSerialisableMessage = (reason: string): string =>
  `Function response is not JSON serialisable: ${reason}`

/** The message of a call that used more memory than it was given. */
export const memoryExceededMessage = (memoryMb: number): string =>
  `Memory limit exceeded: the function used more than its ${memoryMb} MB.`
