/**
 * What the services' operations can fail with, by kind of request. Each method's error type is exactly
 * what it can fail with: a read never carries `CallOutcomeUnknown` (only a request that is never re-sent
 * can lose its answer), and only waits carry `CallFailed`, `CallTimedOut` or `PollDeadlineExceeded`.
 *
 * @since 0.1.0
 */
import type {
  ApiError,
  AuthenticationFailed,
  CallOutcomeUnknown,
  DecodeError,
  InvalidInput,
  TransportError
} from "@effect-cdf/core/Errors"

/**
 * What a read (or any request that is safe to re-send) can fail with: the server's answer, the transport,
 * an answer that cannot be decoded, authentication, or input refused before anything was sent.
 */
export type ReadError = ApiError | TransportError | DecodeError | AuthenticationFailed | InvalidInput

/** What a write that is never sent twice can fail with: a read's errors, or its answer lost after it may have arrived. */
export type WriteError = ReadError | CallOutcomeUnknown
