/** Building a function's code bundle: reading a folder or in-memory files, and zipping them deterministically. */
import { InvalidInput } from "@effect-cdf/core/Errors"
import { Effect } from "effect"
import { zipSync } from "fflate"
import type { Zippable } from "fflate"
import * as fs from "node:fs/promises"
import * as nodePath from "node:path"

/** Folders never bundled: dependencies, bytecode caches and version control. */
export const SKIPPED_FOLDERS: ReadonlyArray<string> = ["node_modules", "__pycache__", ".git"]

/** Files of a bundle: POSIX paths relative to its root, with their bytes. */
export type BundleFiles = ReadonlyMap<string, Uint8Array>

// Zip entries carry a modification time: a fixed one makes the same files give the same bytes.
const FIXED_MTIME = new Date(Date.UTC(1980, 0, 2))

const encoder = new TextEncoder()

const invalid = (subject: string, issue: string) => new InvalidInput({ subject, issue })

/** Why a bundle path is not a relative POSIX path inside the bundle, or `undefined`. */
export const pathProblem = (path: string): string | undefined => {
  if (path.length === 0) return "a file path is empty"
  if (path.includes("\\")) return `"${path.slice(0, 80)}" is not a POSIX path: use / not \\`
  if (path.startsWith("/")) return `"${path.slice(0, 80)}" is absolute: paths are relative to the bundle root`
  if (path.split("/").some((part) => part === "" || part === "." || part === "..")) {
    return `"${path.slice(0, 80)}" has an empty, . or .. segment`
  }
  return undefined
}

/** In-memory files as a bundle: strings are UTF-8; paths are checked and sorted. */
export const fromFiles = (
  files: Readonly<Record<string, string | Uint8Array>>
): Effect.Effect<BundleFiles, InvalidInput> =>
  Effect.suspend(() => {
    const entries = Object.entries(files)
    for (const [path] of entries) {
      const problem = pathProblem(path)
      if (problem !== undefined) return Effect.fail(invalid("source files", problem))
    }
    return Effect.succeed(
      new Map(
        entries
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([path, content]) => [path, typeof content === "string" ? encoder.encode(content) : content])
      )
    )
  })

const describeFsError = (error: unknown): string => {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined
  return code === "ENOENT"
    ? "no such folder"
    : code === "ENOTDIR"
    ? "not a folder"
    : code === "EACCES" || code === "EPERM"
    ? "permission denied"
    : code ?? "could not be read"
}

/**
 * Every file under `folder` (skipping {@link SKIPPED_FOLDERS}), keyed by POSIX path in sorted order.
 * Symbolic links to files are followed; links to folders are not, so a link cycle cannot loop.
 */
export const fromFolder = (folder: string): Effect.Effect<BundleFiles, InvalidInput> =>
  Effect.tryPromise({
    try: async () => {
      const root = nodePath.resolve(folder)
      const out = new Map<string, Uint8Array>()
      const walk = async (dir: string, prefix: string): Promise<void> => {
        const entries = await fs.readdir(dir, { withFileTypes: true })
        entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        for (const entry of entries) {
          const full = nodePath.join(dir, entry.name)
          const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`
          if (entry.isDirectory()) {
            if (!SKIPPED_FOLDERS.includes(entry.name)) await walk(full, rel)
          } else if (entry.isFile() || (entry.isSymbolicLink() && (await fs.stat(full)).isFile())) {
            out.set(rel, new Uint8Array(await fs.readFile(full)))
          }
        }
      }
      await walk(root, "")
      return out
    },
    catch: (error) => invalid("source folder", `${folder}: ${describeFsError(error)}`)
  })

/** The zip of a bundle: entries in path order with a fixed timestamp, so equal files give equal bytes. */
export const zip = (files: BundleFiles): Effect.Effect<Uint8Array, InvalidInput> =>
  Effect.try({
    try: () => {
      const zippable: Zippable = {}
      for (const [path, data] of files) zippable[path] = data
      return zipSync(zippable, { level: 6, mtime: FIXED_MTIME })
    },
    catch: (error) =>
      invalid("source files", `could not be zipped: ${error instanceof Error ? error.message : "error"}`)
  })
