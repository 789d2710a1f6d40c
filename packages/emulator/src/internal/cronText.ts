/** A human description of a 5-field cron expression, as the `when` field of a schedule. */
export const describeCron = (expression: string): string => {
  const fields = expression.trim().split(/\s+/)
  if (fields.length !== 5) return `At ${expression}`
  const [minute, hour, dom, month, dow] = fields
  const rest = dom === "*" && month === "*" && dow === "*"
  const num = (s: string | undefined) => s !== undefined && /^\d+$/.test(s)
  const step = (s: string | undefined) => s !== undefined && /^\*\/\d+$/.test(s) ? Number(s.slice(2)) : undefined
  const pad = (s: string) => s.padStart(2, "0")
  if (rest) {
    if (minute === "*" && hour === "*") return "Every minute"
    const everyMinutes = step(minute)
    if (everyMinutes !== undefined && hour === "*") {
      return everyMinutes === 1 ? "Every minute" : `Every ${everyMinutes} minutes`
    }
    if (minute === "0" && hour === "*") return "Every hour"
    if (num(minute) && hour === "*") return `Every hour at minute ${minute}`
    const everyHours = step(hour)
    if (num(minute) && everyHours !== undefined) {
      return everyHours === 1 ? "Every hour" : `Every ${everyHours} hours`
    }
    if (num(minute) && num(hour) && minute !== undefined && hour !== undefined) {
      return `Every day at ${pad(hour)}:${pad(minute)}`
    }
  }
  return `At ${expression}`
}
