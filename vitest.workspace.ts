/** The test projects: one per package. The root vitest.config.ts reads this list. */
export default ["packages/*/vitest.config.ts"]
