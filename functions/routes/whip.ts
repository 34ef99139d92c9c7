import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { MAX_WHIP_SDP_BYTES } from '../../shared/protocol/commands.ts';
import type { ApiEnv } from '../http/env.ts';
import type { WhipEndpoint } from '../whip/WhipEndpoint.ts';

const Session = z.uuid();
const StreamId = z.string().min(1).max(64);

/**
 * WHIP (RFC 9725) at `/whip` and WHEP at `/whep/{stream}`: `POST` an SDP offer
 * (`application/sdp`) with a join token as the bearer → `201` with the answer and the session's
 * `Location`; `DELETE` that URL to stop. No trickle ICE (`PATCH` is 405: the offer carries its
 * candidates, the answer ours). Open to browsers of other origins (CORS, `Location` exposed), as
 * WHIP and WHEP clients in pages need.
 */
export function whipRoutes(app: OpenAPIHono<ApiEnv>, endpoint: WhipEndpoint): void {
  const allow = cors({
    origin: '*',
    allowMethods: ['POST', 'DELETE', 'PATCH', 'OPTIONS'],
    allowHeaders: ['authorization', 'content-type'],
    exposeHeaders: ['location'],
  });
  for (const path of ['/whip', '/whip/*', '/whep/*']) app.use(path, allow);
  const sized = bodyLimit({
    maxSize: MAX_WHIP_SDP_BYTES,
    onError: () => {
      throw new HTTPException(413, { message: `offers larger than ${MAX_WHIP_SDP_BYTES} bytes are refused` });
    },
  });
  /** The offer and the bearer join token of a WHIP or WHEP POST. */
  const offerOf = async (c: Context) => {
    if (!/^application\/sdp\s*(;|$)/i.test(c.req.header('content-type') ?? ''))
      throw new HTTPException(415, { message: 'an offer is application/sdp' });
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    return { token, sdp: await c.req.text() };
  };
  const answer = (c: Context, sdp: string, location: string) =>
    c.body(sdp, 201, { 'content-type': 'application/sdp', location });
  const end = async (c: Context) => {
    const session = Session.safeParse(c.req.param('session'));
    if (!session.success || !(await endpoint.end(session.data)))
      throw new HTTPException(404, { message: 'no such session' });
    return c.body(null, 200);
  };
  const noTrickle = (c: Context) =>
    c.body('trickle ICE is not supported: the offer carries its candidates', 405, { allow: 'DELETE' });

  app.post('/whip', sized, async (c) => {
    const { token, sdp } = await offerOf(c);
    const session = await endpoint.offer(token, sdp);
    return answer(c, session.sdp, `/whip/${session.sessionId}`);
  });
  app.delete('/whip/:session', end);
  app.patch('/whip/:session', noTrickle);

  // WHEP: POST /whep/{a stream id of the token's room}; the session is /whep/sessions/{id}.
  app.post('/whep/:stream', sized, async (c) => {
    const stream = StreamId.safeParse(c.req.param('stream'));
    if (!stream.success) throw new HTTPException(404, { message: 'no such stream' });
    const { token, sdp } = await offerOf(c);
    const session = await endpoint.play(token, stream.data, sdp);
    return answer(c, session.sdp, `/whep/sessions/${session.sessionId}`);
  });
  app.delete('/whep/sessions/:session', end);
  app.patch('/whep/sessions/:session', noTrickle);
}
