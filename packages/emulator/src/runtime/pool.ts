/**
 * Warm workers, kept per prepared handler, memory cap and environment: a call takes an idle one (or a
 * new one) and gives it back when it ends; a worker still busy then (the call timed out or was
 * interrupted) is stopped instead.
 *
 * @since 0.1.0
 */
import type { PreparedHandler } from "./types.js"

/** What the pool needs of a worker. */
export interface PooledWorker {
  readonly key: string
  readonly dir: string
  readonly dead: boolean
  readonly busy: boolean
  /** Resolves once the worker has exited. */
  readonly gone: Promise<void>
  /** Stops the worker; resolves once it has exited. */
  terminate(): Promise<void>
  /** Lets an idle worker not keep the Node process alive. */
  unref(): void
}

/** The pool key of a handler under a memory cap and environment. */
export const poolKey = (
  handler: PreparedHandler,
  memoryMb: number,
  env: Readonly<Record<string, string>> | undefined
): string =>
  JSON.stringify([
    handler.dir,
    handler.entry,
    memoryMb,
    env === undefined || Object.keys(env).length === 0 ? null : env
  ])

/**
 * How long a worker may sit idle beyond the first of its handler before it is stopped: a burst of
 * concurrent calls leaves many warm workers (10-20 MB each), and they go back once the burst is over.
 */
export const idleMillis = 10_000

/** Warm workers of every prepared handler. */
export class WarmPool<W extends PooledWorker> {
  private readonly idle = new Map<string, Array<W>>()
  private readonly idleSince = new WeakMap<W, number>()
  private readonly all = new Set<W>()
  private closed = false
  private sweeper: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly start: (
      key: string,
      handler: PreparedHandler,
      memoryMb: number,
      env: Readonly<Record<string, string>> | undefined
    ) => W,
    private readonly maxIdlePerKey: number
  ) {}

  /** Starts a new worker for a handler. */
  spawn(handler: PreparedHandler, memoryMb: number, env: Readonly<Record<string, string>> | undefined): W {
    if (this.closed) throw new Error("The handler runtime is shut down.")
    const normalised = env === undefined || Object.keys(env).length === 0 ? undefined : { ...env }
    const worker = this.start(poolKey(handler, memoryMb, normalised), handler, memoryMb, normalised)
    this.all.add(worker)
    void worker.gone.then(() => this.all.delete(worker))
    return worker
  }

  /** An idle worker for the handler, or a new one. */
  acquire(handler: PreparedHandler, memoryMb: number, env: Readonly<Record<string, string>> | undefined): W {
    const idle = this.idle.get(poolKey(handler, memoryMb, env))
    while (idle !== undefined && idle.length > 0) {
      const worker = idle.pop()
      if (worker !== undefined && !worker.dead) return worker
    }
    return this.spawn(handler, memoryMb, env)
  }

  /** Makes sure one idle worker waits for the handler. */
  warm(handler: PreparedHandler, memoryMb: number, env: Readonly<Record<string, string>> | undefined): void {
    if (this.closed) return
    const idle = this.idle.get(poolKey(handler, memoryMb, env))
    if (idle !== undefined && idle.some((worker) => !worker.dead)) return
    try {
      this.settle(this.spawn(handler, memoryMb, env))
    } catch {
      // Warming is an optimisation: the first call starts its own worker and reports what went wrong.
    }
  }

  /** Takes a worker back after a call: kept warm if it is healthy and there is room, else stopped. */
  settle(worker: W): void {
    if (worker.dead) return
    const idle = this.idle.get(worker.key) ?? []
    if (worker.busy || this.closed || idle.length >= this.maxIdlePerKey) {
      void worker.terminate()
      return
    }
    idle.push(worker)
    this.idle.set(worker.key, idle)
    this.idleSince.set(worker, Date.now())
    worker.unref()
    this.sweeper ??= setInterval(() => this.sweep(), idleMillis / 2).unref()
  }

  /** Stops the workers idle for longer than `idleMillis`, keeping the newest of each handler warm. */
  private sweep(): void {
    const cutoff = Date.now() - idleMillis
    let left = 0
    for (const [key, idle] of this.idle) {
      // The last worker of the list is the most recently settled: it is kept.
      const kept = idle.filter((worker, i) =>
        !worker.dead && (i === idle.length - 1 || (this.idleSince.get(worker) ?? 0) > cutoff)
      )
      for (const worker of idle) if (!kept.includes(worker)) void worker.terminate()
      if (kept.length === 0) this.idle.delete(key)
      else this.idle.set(key, kept)
      left += kept.length
    }
    if (left === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper)
      this.sweeper = undefined
    }
  }

  /** Stops every worker of one prepared handler. */
  release(dir: string): Promise<void> {
    const stopping: Array<Promise<void>> = []
    for (const worker of this.all) if (worker.dir === dir) stopping.push(worker.terminate())
    for (const [key, idle] of this.idle) {
      const kept = idle.filter((worker) => worker.dir !== dir)
      if (kept.length === 0) this.idle.delete(key)
      else this.idle.set(key, kept)
    }
    return Promise.all(stopping).then(() => undefined)
  }

  /** Stops every worker and waits until all have exited. */
  shutdown(): Promise<void> {
    this.closed = true
    this.idle.clear()
    if (this.sweeper !== undefined) clearInterval(this.sweeper)
    return Promise.all(Array.from(this.all, (worker) => worker.terminate())).then(() => undefined)
  }
}
