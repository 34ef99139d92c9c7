/**
 * Typed errors with stable codes. The numeric codes follow OWT's management API family
 * (1001 not found … 2001 unexpected) so OWT clients can keep their error handling; the
 * string `name` is for logs and tests. Errors are mapped to HTTP / signaling responses
 * once, at the edge (see functions/), never in the code that throws them.
 */
export const ErrorCodes = {
  notFound: 1001,
  serviceNotFound: 1002,
  roomNotFound: 1003,
  streamNotFound: 1004,
  participantNotFound: 1005,
  authenticationFailed: 1101,
  permissionDenied: 1102,
  clusterUnavailable: 1201,
  invalidRequest: 1301,
  conflict: 1302,
  storageFailure: 1401,
  unexpected: 2001,
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class TesseraError extends Error {
  readonly code: ErrorCode;
  /** Safe to show to a caller; never holds secrets or internals. */
  readonly publicMessage: string;
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    publicMessage: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(publicMessage, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.publicMessage = publicMessage;
    if (options?.details) this.details = Object.freeze({ ...options.details });
  }
}

/** Configuration from the environment is missing or malformed; the process cannot start. */
export class ConfigError extends TesseraError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(ErrorCodes.invalidRequest, message, details ? { details } : undefined);
  }
}

/** A binary the media node needs (ffmpeg, the mediasoup worker) is missing or unusable. */
export class MissingDependencyError extends TesseraError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(ErrorCodes.unexpected, message, details ? { details } : undefined);
  }
}
