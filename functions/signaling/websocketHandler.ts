import { GOODBYE_CODES } from '../../shared/ports/gateway.ts';
import type { SignalingFunction } from './SignalingFunction.ts';

/** The parts of API Gateway's WebSocket event the signaling function reads. */
export interface WebSocketEvent {
  /** `disconnectStatusCode` ($disconnect): the close code; 1000 when the client closed normally. */
  requestContext: { routeKey: string; connectionId: string; disconnectStatusCode?: number };
  queryStringParameters?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

export interface WebSocketResult {
  statusCode: number;
  body?: string;
}

/** Routes API Gateway WebSocket events ($connect, $disconnect, $default) to the signaling function. */
export function websocketHandler(signaling: SignalingFunction) {
  return async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const { routeKey, connectionId } = event.requestContext;
    switch (routeKey) {
      case '$connect': {
        const verdict = await signaling.connect(
          connectionId,
          event.queryStringParameters?.token ?? undefined,
          event.queryStringParameters?.resume ?? undefined,
        );
        return verdict.ok ? { statusCode: 200 } : { statusCode: verdict.status, body: verdict.message };
      }
      case '$disconnect':
        // A goodbye (the SDK closes with 1000 only when leaving, a page unloading says 1001);
        // otherwise the session keeps its place for the grace period.
        await signaling.disconnect(connectionId, {
          left: GOODBYE_CODES.has(event.requestContext.disconnectStatusCode ?? 0),
        });
        return { statusCode: 200 };
      default: {
        const body = event.isBase64Encoded
          ? Buffer.from(event.body ?? '', 'base64').toString()
          : (event.body ?? '');
        await signaling.message(connectionId, body);
        return { statusCode: 200 };
      }
    }
  };
}
