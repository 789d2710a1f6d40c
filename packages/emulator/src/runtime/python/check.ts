/**
 * The deploy-time check of a Python handler: Python's own `ast` finds a usable top-level `handle` (a
 * careful regex stands in on hosts without Python), and the real interpreter behind `python3`.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { spawn } from "node:child_process"
import type { DeployProblem } from "../types.js"
import { deployProblem } from "../types.js"

/** The arguments `handle` may take, as in the Python SDK's `ALLOWED_HANDLE_ARGS`. */
export const allowedHandleArgs: ReadonlyArray<string> = ["data", "client", "secrets", "function_call_info"]

/**
 * Reads the module source on stdin and prints one JSON line: `{"ok": true}` or `{"ok": false, "reason"}`.
 * The rules are the Python SDK's `validate_function_folder`: the last top-level `handle` wins; a `def`
 * may only take the allowed arguments; `handle = ...` and `handle: T = ...` are accepted as they are.
 */
const checkScript = String.raw`
import ast, json, sys, traceback
ALLOWED = ["data", "client", "secrets", "function_call_info"]
path = sys.argv[1]
def reply(reason=None):
    sys.stdout.write(json.dumps({"ok": reason is None, "reason": reason}))
try:
    tree = ast.parse(sys.stdin.buffer.read(), filename=path)
except SyntaxError as e:
    reply("".join(traceback.format_exception_only(type(e), e)).strip())
    sys.exit(0)
found = None
for node in tree.body:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "handle":
        a = node.args
        found = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "handle" for t in node.targets):
        found = True
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "handle" and node.value is not None:
        found = True
if found is None:
    reply(f"{path} must contain a function named 'handle'.")
elif isinstance(found, list):
    bad = [arg for arg in found if arg not in ALLOWED]
    if bad:
        reply(f"Arguments {bad} to the function 'handle' in {path} are not allowed. Allowed arguments: {ALLOWED}.")
    else:
        reply()
else:
    reply()
`

/** Finds the real interpreter behind `python3` (skipping shims on every call), or `null` if there is none. */
export const resolveInterpreter = (command: string): Promise<string | null> =>
  new Promise((resolve) => {
    let out = ""
    const child = spawn(command, ["-c", "import sys; sys.stdout.write(sys.executable)"], {
      stdio: ["ignore", "pipe", "ignore"]
    })
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      out += chunk
    })
    child.on("error", () => resolve(null))
    child.on("close", (code) => resolve(code === 0 && out.trim() !== "" ? out.trim() : null))
  })

/** Checks that a Python module defines a usable top-level `handle`. */
export const checkPythonSource = (
  python: string | null,
  source: Uint8Array,
  path: string
): Effect.Effect<void, DeployProblem> =>
  python === null ? checkWithoutPython(new TextDecoder().decode(source), path) : Effect.flatMap(
    Effect.promise(() => runCheck(python, source, path)),
    (reason) => reason === null ? Effect.void : Effect.fail(deployProblem(reason))
  )

const decodeCheckReply = Schema.decodeUnknownEither(
  Schema.parseJson(Schema.Struct({ ok: Schema.Boolean, reason: Schema.NullOr(Schema.String) }))
)

const runCheck = (python: string, source: Uint8Array, path: string): Promise<string | null> =>
  new Promise((resolve) => {
    let out = ""
    let err = ""
    const child = spawn(python, ["-c", checkScript, path], { stdio: ["pipe", "pipe", "pipe"] })
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    child.stdout.setEncoding("utf8")
    child.stderr.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      out += chunk
    })
    child.stderr.on("data", (chunk: string) => {
      err += chunk
    })
    child.stdin.on("error", () => undefined)
    child.stdin.end(source)
    child.on("error", (error) => {
      clearTimeout(timer)
      resolve(`Could not run the Python check: ${error.message}`)
    })
    child.on("close", () => {
      clearTimeout(timer)
      const reply = decodeCheckReply(out)
      if (reply._tag === "Right") {
        resolve(reply.right.ok ? null : reply.right.reason ?? "The Python check failed.")
        return
      }
      resolve(`The Python check of ${path} failed: ${err.trim() || out.trim() || "no output"}`)
    })
  })

/** A careful regex check for hosts without Python: the last top-level `handle` wins. */
const checkWithoutPython = (source: string, path: string): Effect.Effect<void, DeployProblem> => {
  const pattern =
    /^(?:async[ \t]+def[ \t]+handle[ \t]*\(([^)]*)\)|def[ \t]+handle[ \t]*\(([^)]*)\)|handle[ \t]*(?::[^=\n]*)?=(?!=))/gm
  let last: { readonly args: string | undefined } | undefined
  for (const match of source.matchAll(pattern)) last = { args: match[1] ?? match[2] }
  if (last === undefined) return Effect.fail(deployProblem(`${path} must contain a function named 'handle'.`))
  if (last.args === undefined) return Effect.void
  const names = last.args
    .split(",")
    .map((arg) => arg.replace(/#.*$/gm, "").split(/[:=]/)[0].trim().replace(/^\*+/, ""))
    .filter((name) => name !== "" && name !== "/")
  const bad = names.filter((name) => !allowedHandleArgs.includes(name))
  return bad.length === 0 ? Effect.void : Effect.fail(
    deployProblem(
      `Arguments ${JSON.stringify(bad)} to the function 'handle' in ${path} are not allowed.` +
        ` Allowed arguments: ${JSON.stringify(allowedHandleArgs)}.`
    )
  )
}
