/**
 * How errors read: the evidence of an unknown call outcome, for a person and in the JSON document.
 */
import { Ids } from "@effect-cdf/core"
import { CallOutcomeUnknown, RequestDescription } from "@effect-cdf/core/Errors"
import { describe, expect, it } from "@effect/vitest"
import { reconcileCommand, report, resumeCommand, styles } from "../src/Output.js"

const unknown = (more: Partial<ConstructorParameters<typeof CallOutcomeUnknown>[0]>) =>
  new CallOutcomeUnknown({
    functionId: Ids.FunctionId.make(7),
    request: new RequestDescription({ method: "POST", path: "/functions/7/call" }),
    sentAt: 1_764_612_345_678,
    reason: "the connection was reset",
    ...more
  })

describe("CallOutcomeUnknown", () => {
  it("Created names the candidate calls and how to look at one", () => {
    const described = report(
      unknown({
        evidence: "Created",
        sessionId: Ids.SessionId.make(42),
        candidates: [Ids.CallId.make(11), Ids.CallId.make(12)]
      }),
      styles(false)
    )
    expect(described.code).toBe(3)
    expect(described.lines).toEqual([
      "error: CallOutcomeUnknown: The outcome of POST /functions/7/call is unknown and it was not sent again: the connection was reset",
      "  sent at 1764612345678 (2025-12-01 18:05:45Z), session 42",
      "  evidence: Created: the call was created, but it cannot be told apart from other calls started then",
      "  candidate calls: 11, 12 (look at one with: cdf-fn calls get 7 11)"
    ])
    expect(described.json).toMatchObject({ evidence: "Created", sessionId: 42, candidates: [11, 12] })
  })

  it("no evidence says not to call again before checking, and where to look", () => {
    const described = report(unknown({}), styles(false))
    expect(described.lines.slice(1)).toEqual([
      "  sent at 1764612345678 (2025-12-01 18:05:45Z)",
      "  evidence: None: nothing proves whether the call was created; do not call again before checking",
      "  the calls started since: cdf-fn calls list 7"
    ])
  })

  it("NotCreated says calling again is safe", () => {
    const described = report(unknown({ evidence: "NotCreated", sessionId: Ids.SessionId.make(42) }), styles(false))
    expect(described.lines.at(-1)).toContain("NotCreated: the call was not created")
    expect(described.lines.at(-1)).toContain("calling again is safe")
  })
})

describe("hint commands", () => {
  it("resume with --started-at, reconcile with --session-id when there is one", () => {
    expect(resumeCommand(1, 2)).toBe("cdf-fn await 1 2")
    expect(resumeCommand(1, 2, 3)).toBe("cdf-fn await 1 2 --started-at 3")
    expect(reconcileCommand(1, 5)).toBe("cdf-fn calls reconcile 1 --sent-at 5")
    expect(reconcileCommand(1, 5, 9)).toBe("cdf-fn calls reconcile 1 --sent-at 5 --session-id 9")
  })
})
