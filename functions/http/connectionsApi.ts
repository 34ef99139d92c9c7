import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocketGateway } from './WebSocketGateway.ts';

const MAX_POST_BYTES = 128 * 1024;

/**
 * API Gateway's @connections management API over a WebSocketGateway: POST sends, GET
 * describes, DELETE closes; a gone connection is 410 GoneException, as the AWS SDK expects it
 * (x-amzn-errortype), and an oversized post is 413 PayloadTooLargeException.
 */
export function connectionsApi(gateway: WebSocketGateway) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const match = /^(?:\/[^/]+)?\/@connections\/([^/?]+)$/.exec(req.url ?? '');
    const fail = (status: number, type: string) => {
      res
        .writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type })
        .end(JSON.stringify({ message: type }));
    };
    if (!match) return fail(404, 'NotFoundException');
    const connectionId = decodeURIComponent(match[1]!);
    if (req.method === 'GET') {
      const info = gateway.describe(connectionId);
      if (!info) return fail(410, 'GoneException');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(info));
      return;
    }
    if (req.method === 'DELETE') {
      if (!gateway.describe(connectionId)) return fail(410, 'GoneException');
      void gateway.disconnect(connectionId).then(() => res.writeHead(204).end());
      return;
    }
    if (req.method !== 'POST') return fail(405, 'MethodNotAllowed');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_POST_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_POST_BYTES) return fail(413, 'PayloadTooLargeException');
      if (!gateway.sendRaw(connectionId, Buffer.concat(chunks).toString())) return fail(410, 'GoneException');
      res.writeHead(200).end();
    });
  };
}
