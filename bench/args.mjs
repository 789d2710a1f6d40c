// The command-line options of the benchmarks: `--name value`, read as a number.

/** The number after `--name` on the command line, or `fallback` when the option is not given. */
export const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
