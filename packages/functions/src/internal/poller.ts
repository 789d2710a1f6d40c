/**
 * The shared poller of a client: the waits of calls of one function that wait at the same time are polled
 * together, one `POST /functions/{id}/calls/byids` per tick for all of them (chunked to the API's maximum),
 * instead of one `GET .../calls/{id}` per call per poll. Each waiter is parked on a `Deferred` until its
 * call is seen ended, its deadline passes, or a request fails it; one fiber per function does the polling.
 */
import { FunctionCall, Items } from "@effect-cdf/core"
import type { CdfClient } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import type { Schedule } from "effect"
import { Array as Arr, Clock, Deferred, Duration, Effect, Either, Exit, Option } from "effect"
import type { UntilResult } from "../Polling.js"
import * as Polling from "../Polling.js"
import type { ReadError } from "../ServiceError.js"
import { read, retrieveCall } from "./api.js"
import { SHARED_QUEUED_POLL_MILLIS } from "./pacing.js"
import { clampHint, transientPollError } from "./polling.js"

const CallItems = Items.Items(FunctionCall.FunctionCall)

/** What a wait on the shared poller knows and wants. */
export interface SharedWait {
  readonly functionId: number
  readonly callId: number
  /** The call as last seen (its POST's answer): the wait starts after a delay, as `Polling.until`'s does. */
  readonly initial: FunctionCall.FunctionCall
  /** Epoch milliseconds: the last poll of the call is made at it, then the wait ends. */
  readonly deadline: number
  /** The delays between the ticks of the function's poller while this call waits. */
  readonly schedule: Schedule.Schedule<unknown, unknown>
  /** Whether other calls wait for a slot: several waiters then tick at least every 100 ms. */
  readonly queued: () => boolean
  /** Seen with every value observed for the call. */
  readonly onValue: (call: FunctionCall.FunctionCall) => Effect.Effect<void>
}

interface Member {
  readonly wait: SharedWait
  readonly done: Deferred.Deferred<UntilResult<FunctionCall.FunctionCall>, ReadError>
  last: FunctionCall.FunctionCall
  polls: number
}

interface Group {
  readonly members: Map<number, Member>
  running: boolean
  /** Epoch milliseconds of the next tick. */
  due: number
  /** Completed to wake the sleeping poller when a new waiter brings the next tick forward. */
  wake: Deferred.Deferred<void> | undefined
  /** A waiter joined since the last tick: the delays start over from the schedule's first. */
  joined: boolean
  /** After a transient failure (the transport already retried it): the server's hint before the next tick. */
  retryAfter: Option.Option<number>
  schedule: Schedule.Schedule<unknown, unknown>
  queued: () => boolean
}

/** The shared poller of one client. */
export interface Poller {
  /** Waits for a call on the function's shared poller: `Polling.until`'s result, with the same deadline. */
  readonly until: (wait: SharedWait) => Effect.Effect<UntilResult<FunctionCall.FunctionCall>, ReadError>
}

const firstDelay = (schedule: Schedule.Schedule<unknown, unknown>, initial: FunctionCall.FunctionCall) =>
  Effect.flatMap(Polling.pacer(schedule), (pace) => Effect.map(pace.nextFor(initial), Option.getOrElse(() => 0)))

// the pacer after a joiner's first delay (which the joiner set as the next tick): its next delay is the second
const pacedAfterFirst = (schedule: Schedule.Schedule<unknown, unknown>, initial: unknown) =>
  Effect.flatMap(Polling.pacer(schedule), (pace) => Effect.as(pace.nextFor(initial), pace))

const makePoller = (client: CdfClient.Service): Poller => {
  const groups = new Map<number, Group>()
  const groupOf = (functionId: number): Group => {
    const known = groups.get(functionId)
    if (known !== undefined) return known
    const group: Group = {
      members: new Map(),
      running: false,
      due: 0,
      wake: undefined,
      joined: false,
      retryAfter: Option.none(),
      schedule: Polling.defaultSchedule,
      queued: () => false
    }
    groups.set(functionId, group)
    return group
  }

  const byIds = (functionId: number, ids: ReadonlyArray<number>) =>
    read(client, {
      operation: "cdf.Calls.pollMany",
      method: "POST",
      path: path`/functions/${functionId}/calls/byids`,
      safety: "safe",
      // a call not visible yet is missing from the answer, not an error: its waiter keeps waiting
      body: { items: ids.map((id) => ({ id })), ignoreUnknownIds: true },
      schema: CallItems
    })

  const leave = (group: Group, member: Member) => {
    if (group.members.get(member.wait.callId) === member) group.members.delete(member.wait.callId)
    // the last waiter gone: the poller ends now rather than at its next tick
    if (group.members.size === 0 && group.wake !== undefined) Deferred.unsafeDone(group.wake, Exit.void)
  }

  // one waiter polls as `Polling.until` does, with `GET .../calls/{id}`; several share `POST .../byids`
  const poll = (functionId: number, ids: ReadonlyArray<number>) =>
    ids.length === 1
      ? Effect.map(retrieveCall(client, functionId, ids[0]), (call) => ({ items: [call] }))
      : byIds(functionId, ids)

  const settle = Effect.fnUntraced(function*(
    group: Group,
    chunk: ReadonlyArray<number>,
    answer: Either.Either<{ readonly items: ReadonlyArray<FunctionCall.FunctionCall> }, ReadError>
  ) {
    if (Either.isRight(answer)) {
      for (const call of answer.right.items) {
        const member = group.members.get(call.id)
        if (member === undefined) continue
        // a poll of a call is a request that observed it (a call missing from the answer was not)
        member.polls++
        member.last = call
        yield* member.wait.onValue(call)
        if (FunctionCall.isTerminal(call.status)) {
          leave(group, member)
          yield* Deferred.succeed(member.done, { _tag: "Done", value: call, polls: member.polls })
        }
      }
      return
    }
    // a failed request counts as a poll of each call it asked for, as a failed poll of `Polling.until` does
    for (const id of chunk) {
      const member = group.members.get(id)
      if (member !== undefined) member.polls++
    }
    const hint = transientPollError(answer.left)
    // the transport already retried it: the next tick, after the server's hint, polls these calls again
    if (Option.isSome(hint)) {
      group.retryAfter = Option.some(
        Math.max(Option.getOrElse(group.retryAfter, () => 0), clampHint(hint.value))
      )
      return
    }
    for (const id of chunk) {
      const member = group.members.get(id)
      if (member === undefined) continue
      leave(group, member)
      yield* Deferred.fail(member.done, answer.left)
    }
  })

  const tick = Effect.fnUntraced(function*(functionId: number, group: Group) {
    const ids = Array.from(group.members.keys())
    yield* Effect.annotateCurrentSpan({ "cdf.function.id": functionId, "cdf.calls.waiting": ids.length })
    for (const chunk of Arr.chunksOf(ids, Items.ItemLimits.callsByIds)) {
      const answer = yield* Effect.either(poll(functionId, chunk))
      yield* settle(group, chunk, answer)
    }
    // a wait whose deadline has come had its last poll in this tick
    const now = yield* Clock.currentTimeMillis
    for (const member of Array.from(group.members.values())) {
      if (member.wait.deadline > now) continue
      leave(group, member)
      yield* Deferred.succeed(member.done, {
        _tag: "DeadlineReached",
        last: Option.some(member.last),
        polls: member.polls
      })
    }
  })

  const earliestDeadline = (group: Group) => {
    let earliest = Number.POSITIVE_INFINITY
    for (const member of group.members.values()) earliest = Math.min(earliest, member.wait.deadline)
    return earliest
  }

  // the schedule sees the value polled when it paces one call, as in `Polling.until`
  const onlyValue = (group: Group) => group.members.size === 1 ? Array.from(group.members.values())[0]?.last : undefined

  // one waiter keeps its own schedule; several, with calls queued behind them, tick at least every 100 ms
  const hurried = (group: Group, delay: number) =>
    group.members.size >= 2 && group.queued() ? Math.min(delay, SHARED_QUEUED_POLL_MILLIS) : delay

  const loop = Effect.fnUntraced(function*(functionId: number, group: Group) {
    let pace = yield* pacedAfterFirst(group.schedule, onlyValue(group))
    group.joined = false
    while (true) {
      // sleep until the next tick; a waiter joining with an earlier first poll wakes the sleep
      while (true) {
        const now = yield* Clock.currentTimeMillis
        if (now >= group.due || group.members.size === 0) break
        const wake = yield* Deferred.make<void>()
        group.wake = wake
        yield* Effect.raceFirst(Effect.sleep(Duration.millis(group.due - now)), Deferred.await(wake))
        group.wake = undefined
      }
      if (group.members.size === 0) break
      group.retryAfter = Option.none()
      yield* tick(functionId, group).pipe(
        Effect.withSpan("Calls.poller.tick", { root: true }),
        // a defect here would leave every waiter parked: it ends them with it instead
        Effect.catchAllCause((cause) =>
          Effect.forEach(Array.from(group.members.values()), (member) => {
            leave(group, member)
            return Deferred.failCause(member.done, cause)
          }, { discard: true })
        )
      )
      if (group.members.size === 0) break
      if (group.joined) {
        group.joined = false
        pace = yield* pacedAfterFirst(group.schedule, undefined)
      }
      const now = yield* Clock.currentTimeMillis
      // a schedule that ends waits until the deadline; a transient failure is polled again after its hint
      const delay = Option.isSome(group.retryAfter)
        ? group.retryAfter.value
        : hurried(group, Option.getOrElse(yield* pace.nextFor(onlyValue(group)), () => Number.POSITIVE_INFINITY))
      group.due = Math.min(now + delay, earliestDeadline(group))
    }
    group.running = false
  })

  const until = Effect.fnUntraced(function*(wait: SharedWait) {
    const group = groupOf(wait.functionId)
    const done = yield* Deferred.make<UntilResult<FunctionCall.FunctionCall>, ReadError>()
    const member: Member = { wait, done, last: wait.initial, polls: 0 }
    yield* wait.onValue(wait.initial)
    if (FunctionCall.isTerminal(wait.initial.status)) {
      return { _tag: "Done", value: wait.initial, polls: 0 } satisfies UntilResult<FunctionCall.FunctionCall>
    }
    const now = yield* Clock.currentTimeMillis
    const first = Math.min(now + (yield* firstDelay(wait.schedule, wait.initial)), wait.deadline)
    group.members.set(wait.callId, member)
    group.joined = true
    group.schedule = wait.schedule
    group.queued = wait.queued
    if (!group.running) {
      group.running = true
      group.due = first
      yield* Effect.forkDaemon(loop(wait.functionId, group))
    } else if (first < group.due) {
      group.due = first
      if (group.wake !== undefined) yield* Deferred.succeed(group.wake, undefined)
    }
    // an interrupted waiter leaves the group; the others and the poller go on
    return yield* Deferred.await(done).pipe(Effect.ensuring(Effect.sync(() => leave(group, member))))
  })

  return { until }
}

/**
 * `Polling.until` for a call: on its function's shared poller when `queued` is given (the default schedule:
 * whether others wait for a slot) and the call is known, on its own schedule otherwise.
 */
export const untilEnded = (
  poller: Poller,
  call: { readonly functionId: number; readonly callId: number },
  queued: (() => boolean) | undefined,
  options: Polling.UntilOptions<FunctionCall.FunctionCall, ReadError, never> & {
    readonly onValue: (call: FunctionCall.FunctionCall) => Effect.Effect<void>
  }
): Effect.Effect<UntilResult<FunctionCall.FunctionCall>, ReadError> =>
  Effect.suspend(() => {
    const initial = options.initial ?? Option.none()
    return queued !== undefined && Option.isSome(initial)
      ? Effect.flatMap(
        options.schedule === undefined ? Polling.PollSchedule : Effect.succeed(options.schedule),
        (schedule) =>
          poller.until({
            functionId: call.functionId,
            callId: call.callId,
            initial: initial.value,
            deadline: options.deadline,
            schedule,
            queued,
            onValue: options.onValue
          })
      )
      : Polling.until(options)
  })

const pollers = new WeakMap<CdfClient.Service, Poller>()

/** The poller every call of `client` shares. */
export const pollerFor = (client: CdfClient.Service): Poller => {
  const known = pollers.get(client)
  if (known !== undefined) return known
  const poller = makePoller(client)
  pollers.set(client, poller)
  return poller
}
