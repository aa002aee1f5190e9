/**
 * Errors the consumer client raises. Each one names what went wrong and what to do
 * about it, so the CLI can print `message` (and `hint`) without a stack trace.
 */
export class ClientError extends Error {
  constructor(
    message: string,
    /** What the user can do about it. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Which side of the TLS connection refused: `server` means the server rejected the
 * client certificate we presented (or that we presented none); `client` means we
 * rejected the server's certificate.
 */
export type RejectingSide = 'server' | 'client';

export class TlsRejectedError extends ClientError {
  constructor(
    readonly side: RejectingSide,
    message: string,
    hint: string,
    /** The underlying Node/OpenSSL error code, or the server's own wording. */
    readonly reason: string,
  ) {
    super(message, hint);
  }
}

/** An HTTP error answer (token endpoint or resource server), with the RFC 6750/6749 fields. */
export class ProviderAnswerError extends ClientError {
  constructor(
    readonly status: number,
    readonly url: string,
    /** RFC 6750 / RFC 6749 `error` code, e.g. `invalid_token`, `insufficient_scope`. */
    readonly error: string | undefined,
    readonly errorDescription: string | undefined,
    /** The `x-fapi-interaction-id` of the failed exchange, for the provider's logs. */
    readonly interactionId: string | undefined,
    hint?: string,
  ) {
    const detail = [error, errorDescription].filter(Boolean).join(': ');
    super(`HTTP ${status} from ${url}${detail ? ` (${detail})` : ''}`, hint);
  }
}
