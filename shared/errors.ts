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
  /** A request asks for a feature this server does not have yet (501; the message names the option). */
  notImplemented: 1202,
  invalidRequest: 1301,
  conflict: 1302,
  limitExceeded: 1303,
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

/** The codes a NotFoundError carries. */
export type NotFoundCode =
  | typeof ErrorCodes.notFound
  | typeof ErrorCodes.serviceNotFound
  | typeof ErrorCodes.roomNotFound
  | typeof ErrorCodes.streamNotFound
  | typeof ErrorCodes.participantNotFound;

/** A requested resource does not exist (or is not visible to the caller). */
export class NotFoundError extends TesseraError {
  constructor(code: NotFoundCode, message: string) {
    super(code, message);
  }
}

/** Credentials are missing, malformed, forged or expired. */
export class AuthenticationError extends TesseraError {
  constructor(message = 'authentication failed') {
    super(ErrorCodes.authenticationFailed, message);
  }
}

/** The caller is known but may not do this (another service's room, a missing role). */
export class PermissionError extends TesseraError {
  constructor(message = 'permission denied') {
    super(ErrorCodes.permissionDenied, message);
  }
}

/** Input failed validation; `issues` say which field and why. */
export class ValidationError extends TesseraError {
  constructor(message: string, issues: { path: string; message: string }[]) {
    super(ErrorCodes.invalidRequest, message, { details: { issues } });
  }
}

/** A conditional write lost: the record exists already, or changed since it was read. */
export class ConflictError extends TesseraError {
  constructor(message: string) {
    super(ErrorCodes.conflict, message);
  }
}

/** A store or queue failed; the operation did not happen. */
export class StorageError extends TesseraError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.storageFailure, message, { cause });
  }
}

/** A bounded resource or rate is used up (per participant, connection or service); retry later or use less. */
export class LimitError extends TesseraError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(ErrorCodes.limitExceeded, message, details ? { details } : undefined);
  }
}

/**
 * The request asks for something this server cannot do yet (mixing, SIP, transcoding…): refused
 * rather than accepted and ignored. The message names the option; see functions/services/unimplemented.ts.
 */
export class NotImplementedError extends TesseraError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(ErrorCodes.notImplemented, message, details ? { details } : undefined);
  }
}
