// What the meeting app tells a person when something goes wrong: what happened and what to do.
import { ErrorCodes } from '../../shared/errors.ts';
import { TesseraClientError } from '../SignalingChannel.ts';

/** A refusal from the server's HTTP API: its status and `{error: {code, message}}`. */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'HttpRefusal';
  }
}

/** Room names the server takes (RoomIdSchema): checked before asking it. */
export const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export const roomNameProblem = (room: string): string | undefined =>
  ROOM_NAME.test(room) ? undefined : 'A room name is 1 to 64 letters, digits, "-" or "_" (no spaces).';

/** A sentence for an error from getUserMedia, the join endpoint or the SDK. */
export function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'name' in error) {
    switch ((error as { name: string }).name) {
      case 'NotAllowedError':
      case 'SecurityError':
        return 'Camera or microphone access was refused. Allow it in the browser (the icon in the address bar), or turn camera and microphone off to join without them.';
      case 'NotFoundError':
      case 'OverconstrainedError':
        return 'No camera or microphone was found. Plug one in, pick another, or turn it off to join without it.';
      case 'NotReadableError':
        return 'The camera or microphone is in use by another application. Close it there and try again.';
      case 'AbortError':
        return 'The camera or microphone could not be started. Try again, or pick another device.';
    }
  }
  if (error instanceof HttpRefusal) {
    if (error.code === ErrorCodes.limitExceeded)
      return `This room is full, or too many rooms are open. Try again later. (${error.message})`;
    if (error.code === ErrorCodes.invalidRequest)
      return `The server did not accept this: ${error.message}. A room name is 1 to 64 letters, digits, "-" or "_".`;
    if (error.code === ErrorCodes.permissionDenied)
      return 'This room belongs to an application: join it from there.';
    if (error.status === 404)
      return 'This server does not hand out demo joins (start it with DEMO_JOIN=on, or join from your application).';
    if (error.status >= 500) return 'The server had a problem. Try again in a moment.';
    return `The server refused to join: ${error.message}`;
  }
  if (error instanceof TesseraClientError) {
    if (error.code === ErrorCodes.authenticationFailed)
      return 'Could not connect to the meeting: the server is unreachable, or the room is full or gone. Try again.';
    if (error.code === ErrorCodes.limitExceeded) return `The server's limit was reached: ${error.message}.`;
    if (error.code === ErrorCodes.clusterUnavailable)
      return 'No media server is available right now. Try again in a moment.';
    return `The meeting refused this: ${error.message}`;
  }
  // fetch() rejects with a TypeError when nothing answers.
  if (error instanceof TypeError)
    return 'The server cannot be reached. Check that it is running, then try again.';
  return `Something went wrong: ${error instanceof Error ? error.message : String(error)}`;
}
