import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { bearer } from '../harness/controlPlane.ts';
import { type EmbeddedServer, startEmbedded } from '../harness/embedded.ts';
import { openSignaling, type SignalingClient } from '../harness/signalingClient.ts';

/** The embedded server's own placer tells its media node the room's views (views.configure). */
describe('views reach the embedded media node', () => {
  let server: EmbeddedServer;
  let signalingUrl: string;
  /** Every views.configure the control plane sent to the node (the real bus, observed). */
  const configured: Extract<NodeCommand, { type: 'views.configure' }>[] = [];
  const clients: SignalingClient[] = [];

  beforeAll(async () => {
    server = await startEmbedded();
    signalingUrl = `${server.url.replace('http', 'ws')}/ws`;
    const bus = server.system.commands;
    const send = bus.send.bind(bus);
    bus.send = async (nodeId, command) => {
      if (command.type === 'views.configure') configured.push(command);
      return send(nodeId, command);
    };
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.close();
  });

  const join = async (room: string, user: string, views?: unknown[]) => {
    const client = await openSignaling(signalingUrl, await server.token(room, user, 'presenter', { views }));
    clients.push(client);
    expect((await client.request('login')).ok).toBe(true);
    return client;
  };
  const key = (room: string) => roomKey(server.system.superService.id, room);

  it("once when the room is placed (not per participant), again when PUT changes them; harness rooms' none", async () => {
    await join('mixed-room', 'ana', [{ label: 'common' }, { label: 'stage', audio: false }]);
    await join('mixed-room', 'ben');
    const forRoom = () => configured.filter((c) => c.roomId === key('mixed-room'));
    expect(forRoom().map((c) => c.views.map((v) => v.label))).toEqual([['common', 'stage']]);
    expect(forRoom()[0]!.views[1]).toMatchObject({
      audio: false,
      video: { format: { codec: 'h264', profile: 'CB' } },
    });

    const auth = await bearer(server.system.superService.id, server.system.superService.key);
    const put = await fetch(`${server.url}/v1/rooms/mixed-room`, {
      method: 'PATCH',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ views: [{ label: 'only' }] }),
    });
    expect(put.status).toBe(200);
    expect(forRoom()).toHaveLength(2);
    expect(forRoom()[1]!.views.map((v) => v.label)).toEqual(['only']);

    await join('plain-room', 'cy');
    expect(configured.filter((c) => c.roomId === key('plain-room')).map((c) => c.views)).toEqual([[]]);
  });
});
