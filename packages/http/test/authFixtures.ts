import { Redacted, Schema } from "effect"
import type { Auth } from "../src/index.js"

/** The token endpoint of the client-credentials tests. */
export const TOKEN_URL = "https://login.example.com/tenant/oauth2/v2.0/token"

/** Client-credentials settings for `TOKEN_URL` with a canary secret. */
export const credentials = (secret: string, extra: Partial<Auth.ClientCredentials> = {}): Auth.ClientCredentials => ({
  tokenUrl: TOKEN_URL,
  clientId: "my-client",
  clientSecret: Redacted.make(secret),
  scopes: ["https://test.cognitedata.com/.default"],
  ...extra
})

/** A safe GET whose answer is not looked at. */
export const getThings = {
  operation: "cdf.Things.get",
  method: "GET" as const,
  path: "/things",
  safety: "safe" as const,
  schema: Schema.Unknown
}
