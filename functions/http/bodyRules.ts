import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';

const JSON_TYPE = /^application\/json\s*(;|$)/i;
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);
/** Requests that cannot carry one (a Request refuses it; node's parser leaves it unread). */
const WITHOUT_BODY = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Request bodies: JSON only on POST, PUT and PATCH, at most `maxBytes`, refused before they are
 * read. Decided from the headers alone: touching `c.req.raw.body` would make @hono/node-server
 * build a full undici Request with a web stream for every call (a sixth of a token issue's CPU),
 * where the route's validator reads the body straight from the socket. A body without a length
 * to check is counted as it streams in, by hono's bodyLimit.
 */
export function bodyRules(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => {
    throw new HTTPException(413, { message: `request body larger than ${maxBytes} bytes` });
  };
  const counted = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    if (WITHOUT_BODY.has(c.req.method)) return next();
    if (WITH_BODY.has(c.req.method) && !JSON_TYPE.test(c.req.header('content-type') ?? ''))
      throw new HTTPException(415, { message: 'request bodies must be application/json' });
    const length = c.req.header('content-length');
    // Over HTTP/1.1 a body without a length is chunked; a Request made in-process (Lambda's
    // adapter, app.request) may have neither header.
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return counted(c, next);
    if (!(Number(length) <= maxBytes)) tooLarge();
    return next();
  };
}
