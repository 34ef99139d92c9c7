// A local API Gateway WebSocket API (the emulator for the local cluster): WebSocket clients at
// /ws on PORT, the signaling Lambda handler invoked per event, and the @connections management
// API on its own listener at WS_MANAGEMENT_ENDPOINT (http://HOST:PORT), never on the clients' port.
import { createServer } from 'node:http';
import { loadConfig } from '../../shared/config/load.ts';
import { ConfigError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { installProcessGuards } from '../../shared/process/guards.ts';
import { connectionsApi } from '../http/connectionsApi.ts';
import { WebSocketGateway } from '../http/WebSocketGateway.ts';
import { handler } from './lambdaWebsocket.ts';

const config = loadConfig();
const logger = createLogger({ level: config.logLevel, bindings: { service: 'tessera-gateway' } });
installProcessGuards(logger);
const management = new URL(config.wsManagementEndpoint ?? 'http://invalid');
const managementPort = Number(management.port);
if (!config.wsManagementEndpoint || !managementPort || managementPort === config.http.port) {
  // Clients reach the WebSocket port; whoever reaches @connections can speak as the server.
  throw new ConfigError('WS_MANAGEMENT_ENDPOINT must name this gateway on a port other than PORT');
}
const gateway = new WebSocketGateway({
  path: '/ws',
  logger,
  pingIntervalMs: config.wsPingIntervalMs,
  // As API Gateway: every connection ends after 2 hours (its connection record lives 3).
  ...(config.wsMaxConnectionMs ? { maxConnectionMs: config.wsMaxConnectionMs } : {}),
});
gateway.route({
  async connect(connectionId, token, resume) {
    const result = await handler({
      requestContext: { routeKey: '$connect', connectionId },
      queryStringParameters: { token, resume },
    });
    return result.statusCode === 200
      ? { ok: true }
      : { ok: false, status: result.statusCode as 401, message: result.body ?? '' };
  },
  async message(connectionId, body) {
    await handler({ requestContext: { routeKey: '$default', connectionId }, body });
  },
  async disconnect(connectionId, how) {
    // As API Gateway reports it: the client's close code (1000 said goodbye), 1006 when there was none.
    await handler({
      requestContext: {
        routeKey: '$disconnect',
        connectionId,
        disconnectStatusCode: how?.left ? 1000 : 1006,
      },
    });
  },
});
const clients = createServer((_req, res) => {
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
});
gateway.attach(clients);
const managementServer = createServer(connectionsApi(gateway));
managementServer.listen(managementPort, management.hostname.replace(/^\[|\]$/g, ''), () => {
  clients.listen(config.http.port, config.http.host, () => {
    process.stdout.write(`Tessera gateway listening: ws://${config.http.host}:${config.http.port}/ws\n`);
  });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    gateway.close();
    managementServer.close();
    clients.close(() => process.exit(0));
  });
}
