/**
 * Collecting a call's log lines: split into lines, timestamped, streamed to a listener and capped.
 *
 * @since 0.1.0
 */
import type { LogLine } from "./types.js"

/** The most lines one call keeps; later lines are dropped after one marker line. */
export const maxLogLines = 10_000
/** The longest line kept whole; a longer run without a newline is split. */
export const maxLineChars = 64 * 1024

/** The lines of one call, in the order they arrived, streamed to `onLog` as they come. */
export class LogCollector {
  readonly lines: Array<LogLine> = []
  private dropped = false
  private closed = false

  constructor(private readonly onLog: ((line: LogLine) => void) | undefined) {}

  /** Adds one line. */
  push(message: string, timestamp: number = Date.now()): void {
    if (this.closed) return
    if (this.lines.length >= maxLogLines) {
      if (!this.dropped) {
        this.dropped = true
        this.emit({ timestamp, message: `[logs truncated after ${maxLogLines} lines]` })
      }
      return
    }
    this.emit({ timestamp, message })
  }

  /** Stops taking lines (the call is over) and returns the lines so far. */
  close(): ReadonlyArray<LogLine> {
    this.closed = true
    return this.lines.slice()
  }

  private emit(line: LogLine): void {
    this.lines.push(line)
    if (this.onLog !== undefined) {
      try {
        this.onLog(line)
      } catch {
        // A listener's failure must not break the call it listens to.
      }
    }
  }
}

/** Splits a text stream into lines (without their `\n` or `\r\n`); `flush` emits a final partial line. */
export class LineSplitter {
  private partial = ""

  constructor(private readonly emit: (line: string) => void) {}

  /** Feeds a chunk of text. */
  write(chunk: string): void {
    const parts = (this.partial + chunk).split("\n")
    this.partial = parts.pop() ?? ""
    for (const part of parts) this.emit(part.endsWith("\r") ? part.slice(0, -1) : part)
    while (this.partial.length > maxLineChars) {
      this.emit(this.partial.slice(0, maxLineChars))
      this.partial = this.partial.slice(maxLineChars)
    }
  }

  /** Emits what is left of an unterminated last line. */
  flush(): void {
    if (this.partial !== "") {
      const rest = this.partial
      this.partial = ""
      this.emit(rest)
    }
  }
}
