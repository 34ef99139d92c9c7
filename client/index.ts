/**
 * @tessera/client: Tessera's browser SDK. Join a room with a join token, publish camera,
 * microphone or screen, subscribe to participants' and mixed streams, follow the connection
 * state through network blips (resume, ICE restart, rejoin). See client/README.md.
 */
export { type ErrorCode, ErrorCodes } from '../shared/errors.ts';
export * from './TesseraClient.ts';
