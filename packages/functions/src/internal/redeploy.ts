/**
 * Deploys that can be re-run. A deploy is named by its content: a SHA-256 of the bundle's files (sorted
 * paths and bytes) and of every setting, stored in the function's `metadata` under `effect-cdf-hash` (the
 * Cognite toolkit keeps such a hash under `cognite-toolkit-hash`); the secrets go into a separate, slow
 * PBKDF2 hash under `effect-cdf-secrets-hash`, salted with the content hash, so a rotated secret is a change
 * but the metadata does not let anyone test guesses quickly. CDF cannot update a function in place nor
 * rename one, so a changed function is replaced: built first under a temporary external id (the old one
 * keeps serving, and stays if the new build fails), then the old function and its schedules are deleted,
 * the function is created again under its own external id from the same zip, and the schedules are
 * recreated with fresh nonces.
 */
import type { FunctionSchedule } from "@effect-cdf/core"
import { CogniteFunction, Ids } from "@effect-cdf/core"
import { DeployFailed } from "@effect-cdf/core/Errors"
import { Effect, Option } from "effect"
import { createHash, pbkdf2Sync } from "node:crypto"
import type { Schedules } from "../Schedules.js"
import type { WriteError } from "../ServiceError.js"
import type { BundleFiles } from "./zip.js"

/** The metadata key of the content hash. */
export const HASH_KEY = "effect-cdf-hash"
/** The metadata key of the secrets' hash. */
export const SECRETS_HASH_KEY = "effect-cdf-secrets-hash"
/** A hash value as stored: `sha256:` and 64 hex digits (the length the metadata limits are checked with). */
export const PLACEHOLDER_HASH = `sha256:${"0".repeat(64)}`

const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : typeof value === "object" && value !== null
    ? Object.fromEntries(
      Object.entries(value).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([k, v]) => [k, canonical(v)])
    )
    : value

/** The content hash of a bundle and the settings it is deployed with. */
export const contentHash = (files: BundleFiles, settings: Readonly<Record<string, unknown>>): string => {
  const hash = createHash("sha256")
  for (const path of [...files.keys()].sort()) {
    const bytes = files.get(path) ?? new Uint8Array()
    hash.update(`${path}\0${bytes.length}\0`)
    hash.update(bytes)
  }
  hash.update(JSON.stringify(canonical(settings)))
  return `sha256:${hash.digest("hex")}`
}

/** A slow hash of the secrets (PBKDF2-SHA256, 100,000 rounds, salted with the content hash). */
export const secretsHash = (secrets: Readonly<Record<string, string>>, salt: string): string =>
  `pbkdf2:${pbkdf2Sync(JSON.stringify(canonical(secrets)), salt, 100_000, 32, "sha256").toString("hex")}`

/** What a deploy did. */
export type DeployOutcome = "created" | "unchanged" | "replaced"

/** Whether an existing function was deployed from exactly this content. */
export const isUnchanged = (
  existing: CogniteFunction.CogniteFunction,
  metadata: Readonly<Record<string, string>>
): boolean =>
  existing.status !== "Failed" &&
  existing.metadata?.[HASH_KEY] === metadata[HASH_KEY] &&
  existing.metadata?.[SECRETS_HASH_KEY] === metadata[SECRETS_HASH_KEY]

/** A temporary external id for the trial build of a replacement (at most 255 characters). */
export const trialExternalId = (externalId: string, hash: string) =>
  `${externalId.slice(0, 230)}.next-${hash.slice(7, 19)}`

/** How a replacement reads and writes, given by the Functions service. */
export interface Replacing {
  readonly create: (write: CogniteFunction.FunctionWrite) => Effect.Effect<CogniteFunction.CogniteFunction, WriteError>
  /** Waits until `Ready`, failing with `DeployFailed` otherwise. */
  readonly awaitReady: (
    created: CogniteFunction.CogniteFunction
  ) => Effect.Effect<CogniteFunction.CogniteFunction, WriteError | DeployFailed>
  readonly remove: (id: number) => Effect.Effect<void, WriteError>
  readonly schedules: Schedules.Service
}

/**
 * Replaces `existing` with a function made from `write`: a trial build under a temporary external id
 * first; the old function and its schedules only go once that build is `Ready`.
 */
export const replace = Effect.fnUntraced(function*(
  existing: CogniteFunction.CogniteFunction,
  write: CogniteFunction.FunctionWrite,
  io: Replacing
) {
  const externalId = write.externalId ?? existing.externalId
  const hash = write.metadata?.[HASH_KEY] ?? PLACEHOLDER_HASH
  const trial = yield* io.create(CogniteFunction.FunctionWrite.make({
    ...write,
    externalId: Ids.ExternalId.make(trialExternalId(externalId ?? write.name, hash))
  }))
  const built = yield* Effect.either(io.awaitReady(trial))
  // the trial was only there to prove the build: it goes whatever happened
  yield* Effect.ignore(io.remove(trial.id))
  if (built._tag === "Left") {
    const error = built.left
    return yield* error._tag === "DeployFailed"
      ? new DeployFailed({
        functionId: existing.id,
        reason: `the new version failed to build, so function ${existing.id} was left in place: ${error.reason}`,
        ...(error.trace === undefined ? {} : { trace: error.trace })
      })
      : Effect.fail(error)
  }
  const schedules = yield* io.schedules.list({ filter: { function: existing.id } })
  const kept = yield* Effect.forEach(
    schedules,
    (schedule) => Effect.map(io.schedules.inputData(schedule.id), (data) => ({ schedule, data }))
  )
  if (schedules.length > 0) yield* io.schedules.delete(schedules.map((s) => s.id))
  yield* io.remove(existing.id)
  const created = yield* io.create(write)
  const ready = yield* io.awaitReady(created)
  const recreated: Array<FunctionSchedule.FunctionSchedule> = []
  for (const { data, schedule } of kept) {
    recreated.push(
      yield* io.schedules.create({
        name: schedule.name,
        cronExpression: schedule.cronExpression,
        function: ready.id,
        ...(schedule.description === undefined ? {} : { description: schedule.description }),
        ...(Option.isSome(data) ? { data: data.value } : {})
      })
    )
  }
  return { function: ready, schedules: recreated }
})
