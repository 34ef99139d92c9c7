import type { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { MAX_WHIP_SDP_BYTES } from '../../shared/protocol/commands.ts';
import type { ApiEnv } from '../http/env.ts';
import type { WhipEndpoint } from '../whip/WhipEndpoint.ts';

const Session = z.uuid();

/**
 * WHIP (RFC 9725) at `/whip`: `POST` an SDP offer (`application/sdp`) with a join token as the
 * bearer → `201` with the answer and the session's `Location`; `DELETE` that URL to stop.
 * No trickle ICE (`PATCH` is 405: the offer carries its candidates, the answer ours). Open to
 * browsers of other origins (CORS, `Location` exposed), as WHIP clients in pages need.
 */
export function whipRoutes(app: OpenAPIHono<ApiEnv>, endpoint: WhipEndpoint): void {
  const allow = cors({
    origin: '*',
    allowMethods: ['POST', 'DELETE', 'PATCH', 'OPTIONS'],
    allowHeaders: ['authorization', 'content-type'],
    exposeHeaders: ['location'],
  });
  app.use('/whip', allow);
  app.use('/whip/*', allow);

  app.post(
    '/whip',
    bodyLimit({
      maxSize: MAX_WHIP_SDP_BYTES,
      onError: () => {
        throw new HTTPException(413, {
          message: `offers larger than ${MAX_WHIP_SDP_BYTES} bytes are refused`,
        });
      },
    }),
    async (c) => {
      if (!/^application\/sdp\s*(;|$)/i.test(c.req.header('content-type') ?? ''))
        throw new HTTPException(415, { message: 'a WHIP offer is application/sdp' });
      const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
      const offer = await c.req.text();
      const { sessionId, sdp } = await endpoint.offer(token, offer);
      return c.body(sdp, 201, { 'content-type': 'application/sdp', location: `/whip/${sessionId}` });
    },
  );

  app.delete('/whip/:session', async (c) => {
    const session = Session.safeParse(c.req.param('session'));
    if (!session.success || !(await endpoint.end(session.data)))
      throw new HTTPException(404, { message: 'no such WHIP session' });
    return c.body(null, 200);
  });

  app.patch('/whip/:session', (c) =>
    c.body('trickle ICE is not supported: the offer carries its candidates', 405, { allow: 'DELETE' }),
  );
}
