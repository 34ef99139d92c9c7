// Several SDK clients in one page, for the failover burst (test/harness/failoverBurst.ts):
// one may publish a small camera, the others receive. The page's WebSocket is wrapped so every
// `login` a client sends, and its answer, is logged with the time; a 100 ms loop records, per
// receiving client, the moments its decoded-frame count went up.
import { TesseraClient } from '../../../client/TesseraClient.ts';

interface LoginTrace {
  socket: number;
  id: unknown;
  sentAt: number;
  failover: boolean;
  answeredAt?: number;
  ok?: boolean;
  code?: number;
  message?: string;
}

const logins: LoginTrace[] = [];
let socketCount = 0;

const sockets: TracedWebSocket[] = [];

class TracedWebSocket extends WebSocket {
  readonly #socket = socketCount++;
  readonly #pending = new Map<unknown, LoginTrace>();

  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    sockets.push(this);
    this.addEventListener('message', (e) => {
      const message = parse(String(e.data));
      const trace = message && 'id' in message ? this.#pending.get(message.id) : undefined;
      if (!trace) return;
      this.#pending.delete(message!.id);
      const error = message!.error as { code?: number; message?: string } | undefined;
      Object.assign(trace, {
        answeredAt: Date.now(),
        ok: message!.ok === true,
        ...(error ? { code: error.code, message: error.message } : {}),
      });
    });
  }

  override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    const request = typeof data === 'string' ? parse(data) : undefined;
    if (request?.method === 'login') {
      const params = (request.params ?? {}) as Record<string, unknown>;
      const trace: LoginTrace = {
        socket: this.#socket,
        id: request.id,
        sentAt: Date.now(),
        failover: params.failover === true,
      };
      logins.push(trace);
      this.#pending.set(request.id, trace);
    }
    super.send(data);
  }
}
window.WebSocket = TracedWebSocket;

function parse(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

interface Member {
  client: TesseraClient;
  user: string;
  rejoiningAt: number[];
  rejoinedAt: number[];
  /** The SDK's connection states, with when and why. */
  states: { at: number; state: string; reason?: string | undefined }[];
  /** Times a remote video track arrived. */
  trackAt: number[];
  /** Times the decoded-frame count of any received video went up. */
  advancedAt: number[];
  frames: Map<string, number>;
}

const members: Member[] = [];
let watching: ReturnType<typeof setInterval> | undefined;

const burst = {
  /** Joins one client; with `publish`, it sends a 320x240 camera (video only: less CPU on 2 cores). */
  async join(
    url: string,
    token: string,
    signalingUrl: string,
    user: string,
    publish: boolean,
    healthChecks: boolean,
  ) {
    const client = await TesseraClient.join({
      url,
      token,
      signalingUrl,
      ...(healthChecks ? {} : { healthCheckMs: 0 }),
    });
    const member: Member = {
      client,
      user,
      rejoiningAt: [],
      rejoinedAt: [],
      trackAt: [],
      states: [],
      advancedAt: [],
      frames: new Map(),
    };
    client.on('rejoining', () => member.rejoiningAt.push(Date.now()));
    client.on('rejoined', () => member.rejoinedAt.push(Date.now()));
    client.on('connectionstatechange', ({ state, reason }) =>
      member.states.push({ at: Date.now(), state, reason }),
    );
    client.on('track', (t) => {
      if (t.kind === 'video') member.trackAt.push(Date.now());
    });
    if (publish) {
      const media = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { width: 320, height: 240, frameRate: 15 },
      });
      await client.publish(media.getVideoTracks()[0]!);
    }
    members.push(member);
    return client.participant.id;
  },

  /**
   * Stand-in for the SDK's own detection of a dead node: each client is told, at a random
   * moment within the next `spreadMs` (its detector's phase), what the server tells a client whose
   * node is gone (`drop` with `rejoin`), so its SDK rejoins flagged `failover`.
   */
  simulateStall(spreadMs: number) {
    const drop = JSON.stringify({
      event: 'drop',
      data: { reason: 'media stalled (simulated)', rejoin: true },
    });
    for (const socket of sockets)
      setTimeout(
        () => socket.dispatchEvent(new MessageEvent('message', { data: drop })),
        Math.random() * spreadMs,
      );
  },

  /** Starts recording when each client's received video advances. */
  watch() {
    const sample = async () => {
      for (const m of members) {
        let advanced = false;
        for (const t of m.client.remoteTracks) {
          if (t.kind !== 'video' || t.track.readyState === 'ended') continue;
          const stats = await m.client.stats(t.streamId).catch(() => undefined);
          const inbound = stats && [...stats.values()].find((s) => s.type === 'inbound-rtp');
          const frames: number = inbound?.framesDecoded ?? 0;
          if (frames > (m.frames.get(t.streamId) ?? 0)) advanced = true;
          m.frames.set(t.streamId, frames);
        }
        if (advanced) m.advancedAt.push(Date.now());
      }
    };
    let busy = false;
    watching = setInterval(() => {
      if (busy) return;
      busy = true;
      void sample().finally(() => {
        busy = false;
      });
    }, 100);
  },

  stopWatching() {
    clearInterval(watching);
  },

  report() {
    return {
      logins,
      members: members.map((m) => ({
        user: m.user,
        id: m.client.participant.id,
        rejoiningAt: m.rejoiningAt,
        rejoinedAt: m.rejoinedAt,
        trackAt: m.trackAt,
        states: m.states,
        advancedAt: m.advancedAt,
      })),
    };
  },

  async leaveAll() {
    await Promise.all(members.map((m) => m.client.leave()));
  },
};

declare global {
  interface Window {
    /** The failover burst's clients (test/e2e/pages/burstPeers.ts). */
    burst: typeof burst;
  }
}

window.burst = burst;
