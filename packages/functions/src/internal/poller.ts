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
import { Array as Arr, Clock, Deferred, Duration, Effect, Either, Option } from "effect"
import type { UntilResult } from "../Polling.js"
import * as Polling from "../Polling.js"
import type { ReadError } from "../ServiceError.js"
import { read } from "./api.js"
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
  /** Calls of the function in a wait, shared or not: a wait started while another waits shares the poller. */
  waits: number
  running: boolean
  /** Epoch milliseconds of the next tick. */
  due: number
  /** Completed to wake the sleeping poller when a new waiter brings the next tick forward. */
  wake: Deferred.Deferred<void> | undefined
  /** A waiter joined since the last tick: the delays start over from the schedule's first. */
  joined: boolean
  /** A server's hint after a transient failure: the next tick is not before it. */
  holdMillis: number
  schedule: Schedule.Schedule<unknown, unknown>
}

/** The shared poller of one client. */
export interface Poller {
  /** Runs `wait` counted as a wait of a call of `functionId`. */
  readonly counted: <A, E, R>(functionId: number, wait: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Whether another call of `functionId` is waiting now (a wait started now would share its polls). */
  readonly othersWaiting: (functionId: number) => boolean
  /** Waits for a call on the function's shared poller: `Polling.until`'s result, with the same deadline. */
  readonly until: (wait: SharedWait) => Effect.Effect<UntilResult<FunctionCall.FunctionCall>, ReadError>
}

const firstDelay = (schedule: Schedule.Schedule<unknown, unknown>) =>
  Effect.flatMap(Polling.pacer(schedule), (pace) => Effect.map(pace.next, Option.getOrElse(() => 0)))

const makePoller = (client: CdfClient.Service): Poller => {
  const groups = new Map<number, Group>()
  const groupOf = (functionId: number): Group => {
    const known = groups.get(functionId)
    if (known !== undefined) return known
    const group: Group = {
      members: new Map(),
      waits: 0,
      running: false,
      due: 0,
      wake: undefined,
      joined: false,
      holdMillis: 0,
      schedule: Polling.defaultSchedule
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
  }

  const settle = Effect.fnUntraced(function*(
    group: Group,
    chunk: ReadonlyArray<number>,
    answer: Either.Either<Effect.Effect.Success<ReturnType<typeof byIds>>, ReadError>
  ) {
    if (Either.isRight(answer)) {
      for (const call of answer.right.items) {
        const member = group.members.get(call.id)
        if (member === undefined) continue
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
    const hint = transientPollError(answer.left)
    // the transport already retried it: the next tick polls these calls again
    if (Option.isSome(hint)) {
      group.holdMillis = Math.max(group.holdMillis, clampHint(hint.value))
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
      const answer = yield* Effect.either(byIds(functionId, chunk))
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

  const loop = Effect.fnUntraced(function*(functionId: number, group: Group) {
    let pace = yield* Polling.pacer(group.schedule)
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
      group.holdMillis = 0
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
        pace = yield* Polling.pacer(group.schedule)
      }
      const now = yield* Clock.currentTimeMillis
      const delay = Option.getOrElse(yield* pace.next, () => 5_000)
      group.due = Math.min(now + Math.max(delay, group.holdMillis), earliestDeadline(group))
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
    const first = Math.min(now + (yield* firstDelay(wait.schedule)), wait.deadline)
    group.members.set(wait.callId, member)
    group.joined = true
    group.schedule = wait.schedule
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

  return {
    counted: (functionId, wait) =>
      Effect.suspend(() => {
        const group = groupOf(functionId)
        group.waits++
        return Effect.ensuring(
          wait,
          Effect.sync(() => {
            group.waits--
          })
        )
      }),
    othersWaiting: (functionId) => (groups.get(functionId)?.waits ?? 0) > 0,
    until
  }
}

/**
 * `Polling.until` for a call, counted as a wait of its function: on the shared poller when `shared` (the
 * default schedule) and another call of the function waits, on the call's own `GET` schedule otherwise.
 */
export const untilEnded = (
  poller: Poller,
  call: { readonly functionId: number; readonly callId: number },
  shared: boolean,
  options: Polling.UntilOptions<FunctionCall.FunctionCall, ReadError, never> & {
    readonly onValue: (call: FunctionCall.FunctionCall) => Effect.Effect<void>
  }
): Effect.Effect<UntilResult<FunctionCall.FunctionCall>, ReadError> =>
  Effect.suspend(() => {
    const initial = options.initial ?? Option.none()
    const wait = shared && Option.isSome(initial) && poller.othersWaiting(call.functionId)
      ? Effect.flatMap(
        options.schedule === undefined ? Polling.PollSchedule : Effect.succeed(options.schedule),
        (schedule) =>
          poller.until({
            functionId: call.functionId,
            callId: call.callId,
            initial: initial.value,
            deadline: options.deadline,
            schedule,
            onValue: options.onValue
          })
      )
      : Polling.until(options)
    return poller.counted(call.functionId, wait)
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
