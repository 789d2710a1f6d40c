/**
 * The former name of `HandlerRuntime.ts`, kept so imports of `@effect-cdf/emulator/Runtime` and the
 * `Runtime` namespace keep working.
 *
 * @deprecated Import `HandlerRuntime` instead.
 * @since 0.1.0
 */
export * from "./HandlerRuntime.js"
