/**
 * Unzipping a function's code bundle, safely: no path may leave the bundle, and sizes are capped before
 * anything is inflated.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { unzipSync } from "fflate"
import type { CodeBundle, DeployProblem } from "./types.js"
import { deployProblem } from "./types.js"

/** Caps on what a bundle may hold. */
export interface ZipLimits {
  readonly maxZipBytes: number
  readonly maxFiles: number
  readonly maxUncompressedBytes: number
}

/** The default caps: a 256 MiB zip, 20 000 files, 512 MiB unzipped. */
export const defaultZipLimits: ZipLimits = {
  maxZipBytes: 256 * 1024 * 1024,
  maxFiles: 20_000,
  maxUncompressedBytes: 512 * 1024 * 1024
}

class Rejected {
  constructor(readonly reason: string) {}
}

/**
 * A relative POSIX path with `.` segments and repeated slashes removed, or a reason it is not one:
 * absolute paths, `..` segments, drive letters, backslashes and NUL bytes are refused.
 */
export const normalisePath = (raw: string): { readonly path: string } | { readonly reason: string } => {
  if (raw.includes("\0")) return { reason: `path ${JSON.stringify(raw)} contains a NUL byte` }
  if (raw.includes("\\")) return { reason: `path ${JSON.stringify(raw)} contains a backslash` }
  if (raw.startsWith("/")) return { reason: `path ${JSON.stringify(raw)} is absolute` }
  if (/^[A-Za-z]:/.test(raw)) return { reason: `path ${JSON.stringify(raw)} has a drive letter` }
  const segments = raw.split("/").filter((segment) => segment !== "" && segment !== ".")
  if (segments.includes("..")) return { reason: `path ${JSON.stringify(raw)} leaves the bundle` }
  if (segments.length === 0) return { reason: `path ${JSON.stringify(raw)} is empty` }
  return { path: segments.join("/") }
}

/** Unzips a bundle, refusing zip-slip paths and bundles over the caps. */
export const unzipBundle = (
  zip: Uint8Array,
  limits: ZipLimits = defaultZipLimits
): Effect.Effect<CodeBundle, DeployProblem> =>
  Effect.suspend(() => {
    if (zip.byteLength > limits.maxZipBytes) {
      return Effect.fail(deployProblem(`The zip is ${zip.byteLength} bytes; the limit is ${limits.maxZipBytes}.`))
    }
    let count = 0
    let total = 0
    try {
      const entries = unzipSync(zip, {
        filter: (file) => {
          if (file.name.endsWith("/")) return false
          count += 1
          total += file.originalSize
          if (count > limits.maxFiles) throw new Rejected(`The zip holds more than ${limits.maxFiles} files.`)
          if (total > limits.maxUncompressedBytes) {
            throw new Rejected(`The zip unpacks to more than ${limits.maxUncompressedBytes} bytes.`)
          }
          const checked = normalisePath(file.name)
          if ("reason" in checked) throw new Rejected(`Refusing zip entry: ${checked.reason}.`)
          return true
        }
      })
      const files = new Map<string, Uint8Array>()
      for (const [name, bytes] of Object.entries(entries)) {
        const checked = normalisePath(name)
        if ("path" in checked) files.set(checked.path, bytes)
      }
      return Effect.succeed({ files })
    } catch (error) {
      return Effect.fail(
        deployProblem(
          error instanceof Rejected ? error.reason : `The code is not a valid zip file: ${describe(error)}`
        )
      )
    }
  })

const describe = (error: unknown): string => error instanceof Error ? error.message : String(error)
