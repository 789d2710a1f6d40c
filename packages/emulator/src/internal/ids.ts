import { randomBytes } from "node:crypto"

/** A random internal id in 1..2^53-1 that `taken` does not hold yet. */
export const freshId = (taken: (id: number) => boolean): number => {
  for (;;) {
    const bytes = randomBytes(7)
    let n = 0
    for (const b of bytes) n = n * 256 + b
    const id = (n % (Number.MAX_SAFE_INTEGER - 1)) + 1
    if (!taken(id)) return id
  }
}

/** A random token of `bytes` random bytes, hex encoded. */
export const randomToken = (bytes = 24): string => randomBytes(bytes).toString("hex")
