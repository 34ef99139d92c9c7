// A mediasoup-client Device whose browser probes start at once. Device.load() learns what the
// browser can send and receive from two throw-away peer connections (an offer each), made one
// after the other and only once the router's capabilities have arrived: 40–70 ms of a join on a
// busy machine. Neither probe depends on the router, so here both start when the device is made,
// side by side, while the capabilities are fetched and the socket opens; load() then finds them
// done.
import { Device, detectDevice, type types } from 'mediasoup-client';
import { Chrome74 } from 'mediasoup-client/handlers/Chrome74';
import { Chrome111 } from 'mediasoup-client/handlers/Chrome111';
import { Firefox120 } from 'mediasoup-client/handlers/Firefox120';
import type {
  HandlerFactory,
  HandlerGetNativeRtpCapabilitiesOptions,
} from 'mediasoup-client/handlers/HandlerInterface';
import { ReactNative106 } from 'mediasoup-client/handlers/ReactNative106';
import { Safari12 } from 'mediasoup-client/handlers/Safari12';

type Direction = HandlerGetNativeRtpCapabilitiesOptions['direction'];

const builtins: Record<types.BuiltinHandlerName, { createFactory(options: object): HandlerFactory }> = {
  Chrome111,
  Chrome74,
  Firefox120,
  Safari12,
  ReactNative106,
};

/** The handler mediasoup-client would pick (or `handlerName`), its probes already running. */
export function warmDevice(handlerName?: types.BuiltinHandlerName): Device {
  const name = handlerName ?? detectDevice();
  // Not a browser mediasoup-client knows: its own constructor says so, as before.
  if (!name) return new Device();
  const factory = builtins[name].createFactory({});
  const probes: Record<Direction, Promise<types.RtpCapabilities>> = {
    recvonly: factory.getNativeRtpCapabilities({ direction: 'recvonly' }),
    sendonly: factory.getNativeRtpCapabilities({ direction: 'sendonly' }),
  };
  // A failure belongs to load(), which awaits it; until then it is no unhandled rejection.
  for (const probe of Object.values(probes)) probe.catch(() => {});
  return new Device({
    handlerFactory: { ...factory, getNativeRtpCapabilities: ({ direction }) => probes[direction] },
  });
}
