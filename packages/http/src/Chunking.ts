/**
 * Requests with more items than the API takes at once (byids, delete), split into chunks of the API's
 * limit and sent with bounded concurrency. Use the limits of `Items.ItemLimits` from `@effect-cdf/core`.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"

/** The default number of chunks in flight at once. */
export const DEFAULT_CONCURRENCY = 4

/** `items` split into arrays of at most `size` (at least 1) items, in order. */
export const chunks = <A>(items: Iterable<A>, size: number): Array<Array<A>> => {
  const all = Array.from(items)
  const step = Math.max(1, Math.floor(size))
  const out: Array<Array<A>> = []
  for (let i = 0; i < all.length; i += step) out.push(all.slice(i, i + step))
  return out
}

/**
 * Runs `f` on each chunk of at most `size` items, at most `concurrency` at a time (default 4), and returns
 * the results in chunk order. The first failure interrupts the chunks still running; chunks already done
 * stay done, so for deletes a failure can leave some items deleted.
 *
 * @example
 * ```ts
 * import { Chunking } from "@effect-cdf/http"
 * import { Effect } from "effect"
 *
 * const ids = Array.from({ length: 25 }, (_, i) => ({ id: i + 1 }))
 * const sizes = Chunking.chunked(ids, 10, (chunk) => Effect.succeed(chunk.length)) // [10, 10, 5]
 * ```
 */
export const chunked = <A, B, E, R>(
  items: Iterable<A>,
  size: number,
  f: (chunk: ReadonlyArray<A>, index: number) => Effect.Effect<B, E, R>,
  options?: { readonly concurrency?: number | undefined }
): Effect.Effect<Array<B>, E, R> =>
  Effect.forEach(chunks(items, size), (chunk, index) => f(chunk, index), {
    concurrency: Math.max(1, options?.concurrency ?? DEFAULT_CONCURRENCY)
  })
