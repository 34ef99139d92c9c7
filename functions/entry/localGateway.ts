// A local API Gateway WebSocket API (the emulator for the local cluster): WebSocket clients at
// /ws, the @connections management API, and the signaling Lambda handler invoked per event.
// WS_MANAGEMENT_ENDPOINT must point at this process (http://HOST:PORT).
import { createServer } from 'node:http';
import { loadConfig } from '../../shared/config/load.ts';
import { createLogger } from '../../shared/logger.ts';
import { connectionsApi } from '../http/connectionsApi.ts';
import { WebSocketGateway } from '../http/WebSocketGateway.ts';
import { handler } from './lambdaWebsocket.ts';

const config = loadConfig();
const logger = createLogger({ level: config.logLevel, bindings: { service: 'tessera-gateway' } });
const gateway = new WebSocketGateway({ path: '/ws', logger });
gateway.route({
  async connect(connectionId, token) {
    const result = await handler({
      requestContext: { routeKey: '$connect', connectionId },
      queryStringParameters: { token },
    });
    return result.statusCode === 200
      ? { ok: true }
      : { ok: false, status: result.statusCode as 401, message: result.body ?? '' };
  },
  async message(connectionId, body) {
    await handler({ requestContext: { routeKey: '$default', connectionId }, body });
  },
  async disconnect(connectionId) {
    await handler({ requestContext: { routeKey: '$disconnect', connectionId } });
  },
});
const server = createServer(connectionsApi(gateway));
gateway.attach(server);
server.listen(config.http.port, config.http.host, () => {
  process.stdout.write(`Tessera gateway listening: ws://${config.http.host}:${config.http.port}/ws\n`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    gateway.close();
    server.close(() => process.exit(0));
  });
}
