/**
 * The ready test layer: the real services over the emulator served in memory.
 *
 * @since 0.1.0
 */

/** The test layer, `TestFunctions` and the record of calls. */
export * as Testing from "./Testing.js"
