import { z } from 'zod';
import { METHODS, methodParams } from '../../shared/protocol/signaling.ts';

/** Server events, as the SDK handles them (shared/protocol/signaling.ts `ServerEvent`). */
const EVENTS: Record<string, string> = {
  participant: 'a participant joined or left: {action: join|leave, participant: {id, user, role}}',
  stream: 'a stream was added, updated (paused, resumed) or removed: {status, stream: StreamAnnouncement}',
  text: 'a text message: {from, to: me|all, message}',
  activeSpeaker: 'the loudest participant changed: {participantId, producerId}',
  progress: 'a consumer closed, or its producer paused or resumed: {status, id}',
  drop: 'the server ended the session: {reason, rejoin?}',
  session: 'the resume ticket and its timing: {ticket, graceMs, refreshMs, maxConnectionMs?}',
};

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input', target: 'draft-07' }) as Record<
    string,
    unknown
  >;

const envelope = (method: string) =>
  jsonSchema(
    z.strictObject({
      id: z.union([z.string().min(1).max(64), z.number().int().nonnegative()]),
      method: z.literal(method),
      params: methodParams[method as keyof typeof methodParams],
    }),
  );

/**
 * The WebSocket signaling protocol as an AsyncAPI 3.0 document, generated from the same zod
 * schemas that validate every request: one operation per method (its request, and the response
 * as the reply), and the events the server sends.
 */
export function signalingAsyncApi(version: string): Record<string, unknown> {
  const messages: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const method of METHODS) {
    const name = `${method.replace(/[^A-Za-z0-9]+(.)/g, (_, c: string) => c.toUpperCase())}Request`;
    messages[name] = {
      name,
      title: `${method} request`,
      summary: `The \`${method}\` method's request; answered by a response with the same id.`,
      contentType: 'application/json',
      payload: envelope(method),
    };
    operations[method.replace(/[^A-Za-z0-9]+/g, '_')] = {
      action: 'send',
      summary: `Call \`${method}\``,
      channel: { $ref: '#/channels/signaling' },
      messages: [{ $ref: `#/channels/signaling/messages/${name}` }],
      reply: {
        channel: { $ref: '#/channels/signaling' },
        messages: [{ $ref: '#/channels/signaling/messages/Response' }],
      },
    };
  }
  messages.Response = {
    name: 'Response',
    title: 'response',
    summary: "A request's answer: `data` when ok, else `error` with a stable code (OWT's families).",
    contentType: 'application/json',
    payload: {
      type: 'object',
      required: ['id', 'ok'],
      properties: {
        id: { type: ['string', 'number', 'null'] },
        ok: { type: 'boolean' },
        data: {},
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: { code: { type: 'integer' }, message: { type: 'string' }, details: { type: 'object' } },
        },
      },
    },
  };
  messages.Event = {
    name: 'Event',
    title: 'server event',
    summary: 'Sent by the server without a request.',
    contentType: 'application/json',
    payload: {
      type: 'object',
      required: ['event', 'data'],
      properties: {
        event: {
          type: 'string',
          enum: Object.keys(EVENTS),
          description: Object.entries(EVENTS)
            .map(([e, d]) => `${e}: ${d}`)
            .join('; '),
        },
        data: { type: 'object' },
      },
    },
  };
  operations.events = {
    action: 'receive',
    summary: 'Events the server sends',
    channel: { $ref: '#/channels/signaling' },
    messages: [{ $ref: '#/channels/signaling/messages/Event' }],
  };
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Tessera signaling',
      version,
      description:
        'JSON messages over one WebSocket per participant (`/ws`, or the API gateway in AWS): the client logs in with its join token, then calls methods by `{id, method, params}` and receives `{id, ok, data|error}` answers and events. docs/api.md, "Real-time path".',
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    servers: {
      embedded: {
        host: '127.0.0.1:8080',
        pathname: '/ws',
        protocol: 'ws',
        description: 'the embedded server (npm start)',
      },
    },
    defaultContentType: 'application/json',
    channels: { signaling: { address: '/ws', title: 'signaling', messages } },
    operations,
  };
}
