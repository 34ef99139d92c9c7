import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type ErrorCode, ErrorCodes, TesseraError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';

const statusByCode: Record<ErrorCode, ContentfulStatusCode> = {
  [ErrorCodes.notFound]: 404,
  [ErrorCodes.serviceNotFound]: 404,
  [ErrorCodes.roomNotFound]: 404,
  [ErrorCodes.streamNotFound]: 404,
  [ErrorCodes.participantNotFound]: 404,
  [ErrorCodes.authenticationFailed]: 401,
  [ErrorCodes.permissionDenied]: 403,
  [ErrorCodes.clusterUnavailable]: 503,
  [ErrorCodes.notImplemented]: 501,
  [ErrorCodes.invalidRequest]: 400,
  [ErrorCodes.conflict]: 409,
  [ErrorCodes.limitExceeded]: 429,
  [ErrorCodes.storageFailure]: 503,
  [ErrorCodes.unexpected]: 500,
};

/** The HTTP status that belongs to an error code, wherever an error meets HTTP (routes, $connect). */
export const httpStatusOf = (code: ErrorCode): ContentfulStatusCode => statusByCode[code];

/**
 * The one place errors become HTTP responses: `{error: {code, message}}` with the status
 * that belongs to the code. Unknown errors are logged and answered as 2001 without details.
 */
export function errorResponse(c: Context, error: unknown, logger: Logger): Response {
  if (error instanceof TesseraError) {
    const body = { error: { code: error.code, message: error.publicMessage, ...error.details } };
    return c.json(body, httpStatusOf(error.code));
  }
  if (error instanceof HTTPException && error.status < 500) {
    // hono's own request checks (malformed JSON body and the like)
    const code = error.status === 401 ? ErrorCodes.authenticationFailed : ErrorCodes.invalidRequest;
    return c.json({ error: { code, message: error.message || 'invalid request' } }, error.status);
  }
  logger.error('unhandled error', { error, path: c.req.path, method: c.req.method });
  return c.json({ error: { code: ErrorCodes.unexpected, message: 'unexpected server error' } }, 500);
}
