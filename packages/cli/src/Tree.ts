/**
 * Every `cdf-fn` command as data: names, one-line summaries, options and arguments. The implementations
 * are loaded only for the command that runs (`load`), so `--help` and usage errors load nothing else.
 *
 * @since 0.1.0
 */
import type { Runner } from "./Spec.js"
import {
  arg,
  args,
  choice,
  flag,
  group,
  integer,
  integerOr,
  leaf,
  requiredInteger,
  requiredText,
  text
} from "./Spec.js"

/** The CLI's version. */
export const VERSION = "0.1.0"

/** `--json` alone, for the commands that need no target. */
export const output = { json: flag("Print one JSON document on stdout") } as const

/** The options of every command that talks to CDF or an emulator. */
export const common = {
  ...output,
  baseUrl: text("URL", "The API's base URL; default COGNITE_BASE_URL or CDF_URL"),
  project: text("NAME", "The CDF project; default COGNITE_PROJECT or CDF_PROJECT"),
  tokenFile: text("FILE", "Read the bearer token from FILE; - reads it from stdin"),
  token: text("TOKEN", "A bearer token; visible to others in `ps`: prefer COGNITE_TOKEN or --token-file"),
  emulator: flag("Use the embedded emulator even if CDF variables are set"),
  dataDir: text("DIR", "Keep the embedded emulator's state in DIR; default CDF_FN_DATA_DIR")
} as const

const FN = "A function id (all digits) or external id"
const RUNTIMES = ["py310", "py311", "py312", "py313", "py314"] as const
const STATUSES = ["Running", "Completed", "Failed", "Timeout"] as const
const timeout = text("DURATION", "Stop waiting after this long, e.g. 30s or 5m; default the call timeout + 1 min")

/** `functions list` ... */
export const functionsList = leaf({ name: "list", summary: "List the project's functions", common })
export const functionsGet = leaf({
  name: "get",
  summary: "Show one function",
  common,
  args: { ref: arg("function", FN) }
})
export const functionsDeploy = leaf({
  name: "deploy",
  summary: "Zip a folder, upload it, create the function and wait until it is Ready",
  details: [
    "The folder is a Python function as CDF runs it: handler.py (or --function-path) defining handle, and " +
    "any requirements.txt. The stages go to stderr.",
    "Deploying is idempotent: the same folder and settings again is `unchanged` and sends nothing. A " +
    "changed function with the same external id is an error (exit 3) unless --replace is given."
  ],
  options: {
    name: text("NAME", "The function's name; default the folder's name"),
    externalId: text("ID", "The function's external id; default its name"),
    runtime: choice("RUNTIME", RUNTIMES, "The Python runtime, CDF's default py313"),
    functionPath: text("PATH", "The handler's path inside the folder; default handler.py"),
    description: text("TEXT", "The function's description"),
    replace: flag(
      "Replace the function if its code or settings changed: built first under a temporary external id, " +
        "the old one kept if that build fails, schedules recreated with fresh nonces"
    )
  },
  common,
  args: { folder: arg("folder", "The folder with handler.py") },
  examples: [
    "cdf-fn functions deploy ./my-function --external-id my-function",
    "cdf-fn functions deploy ./my-function --external-id my-function --replace"
  ]
})
export const functionsDelete = leaf({
  name: "delete",
  summary: "Delete functions (their zip files stay in the Files API)",
  common,
  args: { refs: args("function", "Function ids or external ids") }
})
export const functionsLimits = leaf({ name: "limits", summary: "Show the project's Functions limits", common })
export const functionsStatus = leaf({ name: "status", summary: "Show whether Functions is activated", common })
export const functionsActivate = leaf({ name: "activate", summary: "Ask for Functions to be activated", common })

/** `call` and `await`. */
export const call = leaf({
  name: "call",
  summary: "Call a function and wait for its response",
  details: [
    "stdout gets the response (JSON). Ctrl-C stops waiting, not the call, and prints how to resume it; " +
    "Ctrl-C while the call is being sent prints when it was sent and the `calls reconcile` command that " +
    "finds it."
  ],
  options: {
    data: text("JSON", "The call's data: a JSON object, or @file.json"),
    noWait: flag("Start the call and print its id; do not wait"),
    timeout
  },
  common,
  args: { fn: arg("function", FN) },
  examples: ["cdf-fn call my-function --data '{\"name\": \"Ada\"}'"]
})
export const await_ = leaf({
  name: "await",
  summary: "Resume waiting on a call started earlier",
  options: {
    startedAt: integer("EPOCH_MS", "When the call was sent, as `call` prints it"),
    timeout
  },
  common,
  args: { functionId: arg("function-id", "The function's id"), callId: arg("call-id", "The call's id") }
})

/** `calls ...`. */
export const callsList = leaf({
  name: "list",
  summary: "List a function's calls, newest first",
  options: {
    status: choice("STATUS", STATUSES, "Only calls with this status"),
    limit: integerOr("N", "At most N calls", 25)
  },
  common,
  args: { fn: arg("function", FN) }
})
const callArgs = { fn: arg("function", FN), callId: arg("call-id", "The call's id") } as const
export const callsGet = leaf({ name: "get", summary: "Show one call: status, times, error", common, args: callArgs })
export const callsResponse = leaf({
  name: "response",
  summary: "Print a call's response (JSON)",
  common,
  args: callArgs
})
export const callsLogs = leaf({
  name: "logs",
  summary: "Print a call's log lines",
  options: { follow: flag("Print new lines as the call prints them, until it ends", "f") },
  common,
  args: callArgs
})

export const callsReconcile = leaf({
  name: "reconcile",
  summary: "Find the call a send that was cut off may have created",
  details: [
    "When `cdf-fn call` was interrupted (or lost its answer) while the call was being sent, it prints the " +
    "send's time and session: this finds the call on evidence only, from the status of the session made " +
    "for that call alone. It prints the call, or says what is known: not created (safe to call again), " +
    "created (the candidate calls), or nothing (without a session id)."
  ],
  options: {
    sentAt: requiredInteger("EPOCH_MS", "When the call was sent, as `call` printed it"),
    sessionId: integer("ID", "The session made for that call, as `call` printed it"),
    window: text("DURATION", "Clock skew allowed around the send, e.g. 30s; default 30s")
  },
  common,
  args: { fn: arg("function", FN) },
  examples: ["cdf-fn calls reconcile my-function --sent-at 1764612345678 --session-id 4242"]
})

/** `schedules ...`. */
export const schedulesList = leaf({ name: "list", summary: "List the project's schedules", common })
export const schedulesCreate = leaf({
  name: "create",
  summary: "Run a function on a cron schedule",
  options: {
    name: requiredText("NAME", "The schedule's name"),
    cron: requiredText("CRON", "A 5-field cron expression in UTC, e.g. '*/5 * * * *'"),
    function: requiredText("FUNCTION", FN),
    data: text("JSON", "The data every scheduled call gets: a JSON object, or @file.json"),
    description: text("TEXT", "The schedule's description")
  },
  common,
  examples: ["cdf-fn schedules create --name every-5 --cron '*/5 * * * *' --function hello"]
})
export const schedulesDelete = leaf({
  name: "delete",
  summary: "Delete schedules",
  common,
  args: { ids: args("schedule-id", "Schedule ids") }
})
export const schedulesInput = leaf({
  name: "input",
  summary: "Print the data a schedule passes to each call",
  common,
  args: { id: arg("schedule-id", "The schedule's id") }
})

/** `app call`. */
export const appCall = leaf({
  name: "call",
  summary: "Call a route of a Function App and print its data",
  options: {
    body: text("JSON", "The request body: JSON, or @file.json"),
    async: flag("Ask for an asynchronous call (Prefer: respond-async) and poll")
  },
  common,
  args: {
    externalId: arg("external-id", "The app's external id"),
    method: arg("method", "GET, POST, PUT, DELETE, PATCH or OPTIONS"),
    path: arg("path", "The route, e.g. /items/1")
  }
})

/** `demo`. */
export const demo = leaf({
  name: "demo",
  summary: "Deploy and call an example function on the embedded emulator, narrated",
  options: { example: text("FOLDER", "Deploy this folder instead of the python-hello example") },
  common: output
})

/** The whole tree. */
export const root = {
  name: "cdf-fn",
  version: VERSION,
  summary: "Cognite Functions from the command line",
  commands: [
    group("functions", "Deploy, list, show and delete functions", [
      functionsList,
      functionsGet,
      functionsDeploy,
      functionsDelete,
      functionsLimits,
      functionsStatus,
      functionsActivate
    ]),
    call,
    await_,
    group("calls", "Inspect a function's calls: list, status, response, logs, reconcile", [
      callsList,
      callsGet,
      callsResponse,
      callsLogs,
      callsReconcile
    ]),
    group("schedules", "Run functions on a cron: list, create, delete, input", [
      schedulesList,
      schedulesCreate,
      schedulesDelete,
      schedulesInput
    ]),
    group("app", "Function Apps (preview): call a route", [appCall]),
    { _tag: "Delegate", name: "emulator", summary: "Run the local Cognite Functions emulator" },
    { _tag: "Delegate", name: "durable", summary: "Durable calls that survive restarts: a demo and a worker" },
    demo
  ],
  details: [
    "Where requests go: to CDF when any CDF variable is set (COGNITE_* or the Cognite toolkit's CDF_*, " +
    "IDP_*, LOGIN_FLOW, PROVIDER) or --base-url, --project or --token is given; a partial configuration " +
    "is an error that names what is missing. With none of them set (or with --emulator), to an emulator " +
    "started for the length of the command.",
    "Exit codes: 0 success; 1 the call or deployment failed; 2 bad usage or input; 3 an API, auth or " +
    "transport error; 130 interrupted."
  ]
} as const

/** The implementation of each command, by its path, loaded when it runs. */
export const load: Readonly<Record<string, () => Promise<Runner>>> = {
  "functions list": () => import("./commands/Functions.js").then((m) => m.list),
  "functions get": () => import("./commands/Functions.js").then((m) => m.get),
  "functions deploy": () => import("./commands/Functions.js").then((m) => m.deploy),
  "functions delete": () => import("./commands/Functions.js").then((m) => m.delete_),
  "functions limits": () => import("./commands/Functions.js").then((m) => m.limits),
  "functions status": () => import("./commands/Functions.js").then((m) => m.status),
  "functions activate": () => import("./commands/Functions.js").then((m) => m.activate),
  "call": () => import("./commands/Call.js").then((m) => m.call),
  "await": () => import("./commands/Call.js").then((m) => m.await_),
  "calls list": () => import("./commands/Calls.js").then((m) => m.list),
  "calls get": () => import("./commands/Calls.js").then((m) => m.get),
  "calls response": () => import("./commands/Calls.js").then((m) => m.response),
  "calls logs": () => import("./commands/Calls.js").then((m) => m.logs),
  "calls reconcile": () => import("./commands/Calls.js").then((m) => m.reconcile),
  "schedules list": () => import("./commands/Schedules.js").then((m) => m.list),
  "schedules create": () => import("./commands/Schedules.js").then((m) => m.create),
  "schedules delete": () => import("./commands/Schedules.js").then((m) => m.delete_),
  "schedules input": () => import("./commands/Schedules.js").then((m) => m.input),
  "app call": () => import("./commands/App.js").then((m) => m.call),
  "demo": () => import("./commands/Demo.js").then((m) => m.demo)
}
