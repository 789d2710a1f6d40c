// Polls and completion-detection lag of the default poll schedule, against the Python SDK's wait().
//
// A call completes at T * U(0.9, 1.1); the first poll comes after the schedule's first delay (the
// Python SDK polls at once). Lag = the time of the first poll at or after completion, minus completion.
// Request latency is ignored, as in RELIABILITY-ANCHORS §2.5. The schedule is the SDK's own
// Polling.defaultSchedule, stepped through Polling.pacer with a simulated clock.
//
// Run: pnpm build && node bench/polling/run.mjs
import { Clock, Effect, Option } from "effect"
import { Polling } from "../../packages/functions/dist/index.js"

const TRIALS = Number(process.env.TRIALS ?? 2000)
const TARGETS = [5_000, 60_000, 540_000]

const mulberry32 = (seed) => () => {
  seed |= 0
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const random = mulberry32(20261123)

/** A clock that reads a simulated time. */
let simulated = 0
const clock = {
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  currentTimeMillis: Effect.sync(() => simulated),
  currentTimeNanos: Effect.sync(() => BigInt(Math.round(simulated * 1e6))),
  unsafeCurrentTimeMillis: () => simulated,
  unsafeCurrentTimeNanos: () => BigInt(Math.round(simulated * 1e6)),
  sleep: () => Effect.void
}

/** Our schedule: polls until one lands at or after `doneAt`. */
const ours = (doneAt) =>
  Effect.gen(function*() {
    simulated = 0
    const pace = yield* Polling.pacer(Polling.defaultSchedule)
    let polls = 0
    while (true) {
      simulated += Option.getOrElse(yield* pace.next, () => 5_000)
      polls++
      if (simulated >= doneAt) return { polls, lag: simulated - doneAt }
    }
  }).pipe(Effect.withClock(clock))

/** cognite-sdk-python FunctionCall.wait(): an immediate poll, then uniform(0, min(0.3 * 2^n, 10)) s. */
const python = (doneAt) => {
  let now = 0
  let polls = 1
  let n = 0
  while (now < doneAt) {
    now += random() * Math.min(300 * 2 ** n, 10_000)
    n++
    polls++
  }
  return { polls, lag: now - doneAt }
}

const summary = (results) => {
  const lags = results.map((r) => r.lag).sort((a, b) => a - b)
  const p = (q) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))]
  return {
    meanPolls: +(results.reduce((s, r) => s + r.polls, 0) / results.length).toFixed(1),
    p50LagS: +(p(0.5) / 1000).toFixed(2),
    p99LagS: +(p(0.99) / 1000).toFixed(2)
  }
}

const rows = []
for (const target of TARGETS) {
  const doneAts = Array.from({ length: TRIALS }, () => target * (0.9 + 0.2 * random()))
  const oursResults = Effect.runSync(Effect.forEach(doneAts, (doneAt) => ours(doneAt)))
  rows.push({ completion: `${target / 1000} s`, policy: "effect-cdf default", ...summary(oursResults) })
  rows.push({ completion: `${target / 1000} s`, policy: "cognite-sdk-python wait()", ...summary(doneAts.map(python)) })
}
console.table(rows)
console.log(JSON.stringify({ trials: TRIALS, node: process.version, rows }))
