/**
 * The service limits the emulator enforces and reports through `GET /functions/limits`. The defaults are
 * those of CDF on Google Cloud (docs.cognite.com/cdf/functions/technical); tests set small values.
 *
 * @since 0.1.0
 */

/** A numeric range with a default, as `cpuCores` and `memoryGb` report it. */
export interface Range {
  readonly min: number
  readonly max: number
  readonly default: number
}

/** Every limit the emulator enforces. */
export interface Limits {
  /** Reported call timeout in minutes. Default 9. */
  readonly timeoutMinutes: number
  /** The call timeout actually applied, in milliseconds. Default `timeoutMinutes` minutes. */
  readonly callTimeoutMillis: number
  /** CPU cores a function may ask for. Default 1..3, 1. */
  readonly cpuCores: Range
  /** Memory in GB a function may ask for. Default 1.5..5, 1.5. */
  readonly memoryGb: Range
  /** Runtimes accepted and reported. Default py310..py313. */
  readonly runtimes: ReadonlyArray<string>
  /** Reported response size limit in MB. Default 1. */
  readonly responseSizeMb: number
  /** The response size limit applied, in bytes. Default `responseSizeMb` MiB. */
  readonly responseSizeBytes: number
  /** The largest call `data` payload, in bytes of JSON. Default 9 MB. */
  readonly maxInputBytes: number
  /** Running calls per function. Default 100. */
  readonly maxRunningCallsPerFunction: number
  /** Running calls per project. Default 250. */
  readonly maxRunningCallsPerProject: number
  /** Functions per project. Default 100. */
  readonly maxFunctions: number
  /** Schedules per project. Default 1000. */
  readonly maxSchedulesPerProject: number
  /** Schedules per function. Default 100. */
  readonly maxSchedulesPerFunction: number
}

/** The limits of CDF on Google Cloud. */
export const defaults: Limits = {
  timeoutMinutes: 9,
  callTimeoutMillis: 9 * 60_000,
  cpuCores: { min: 1, max: 3, default: 1 },
  memoryGb: { min: 1.5, max: 5, default: 1.5 },
  runtimes: ["py310", "py311", "py312", "py313"],
  responseSizeMb: 1,
  responseSizeBytes: 1024 * 1024,
  maxInputBytes: 9 * 1000 * 1000,
  maxRunningCallsPerFunction: 100,
  maxRunningCallsPerProject: 250,
  maxFunctions: 100,
  maxSchedulesPerProject: 1000,
  maxSchedulesPerFunction: 100
}

/** The limits with `overrides` applied; the applied timeout and response size follow the reported ones. */
export const resolve = (overrides: Partial<Limits> = {}): Limits => {
  const timeoutMinutes = overrides.timeoutMinutes ?? defaults.timeoutMinutes
  const responseSizeMb = overrides.responseSizeMb ?? defaults.responseSizeMb
  return {
    ...defaults,
    ...overrides,
    timeoutMinutes,
    responseSizeMb,
    callTimeoutMillis: overrides.callTimeoutMillis ?? timeoutMinutes * 60_000,
    responseSizeBytes: overrides.responseSizeBytes ?? responseSizeMb * 1024 * 1024
  }
}
