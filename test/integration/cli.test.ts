import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render, runCli } from '../../cli/program.ts';
import { createApp } from '../../functions/app.ts';
import { managementApi } from '../../functions/compose.ts';
import { type RunningServer, serveNode } from '../../functions/http/serveNode.ts';
import { type Adapters, memoryAdapters } from '../../shared/adapters/select.ts';
import { createLogger } from '../../shared/logger.ts';
import { testSecrets } from '../harness/controlPlane.ts';
import { nodeReport } from '../harness/nodeReport.ts';

const SUPER = testSecrets.superService;
let server: RunningServer;
let adapters: Adapters;

beforeAll(async () => {
  adapters = memoryAdapters();
  const app = createApp({
    logger: createLogger({ level: 'error', write: () => {} }),
    api: managementApi(adapters, testSecrets),
  });
  server = await serveNode(app, '127.0.0.1', 0);
});

afterAll(async () => {
  await server?.close();
});

/** One `tessera` command line in process, as the super service unless told otherwise; what it printed and its exit code. */
async function tessera(args: string[], credentials = ['--service-id', SUPER.id, '--service-key', SUPER.key]) {
  let out = '';
  let err = '';
  const code = await runCli(['--url', server.url, ...credentials, ...args], {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

describe('tessera CLI', () => {
  it('creates a service, and as that service a room and a join token; lists, reads and deletes', async () => {
    const made = await tessera(['--json', 'services', 'create', 'cli-tenant']);
    expect(made.code, made.err).toBe(0);
    const [service] = JSON.parse(made.out) as { id: string; key: string }[];
    const as = ['--service-id', service!.id, '--service-key', service!.key];

    const room = await tessera(
      ['rooms', 'create', 'standup', '--id', 'standup', '--participant-limit', '4'],
      as,
    );
    expect(room.code, room.err).toBe(0);
    // A table: a header, then the room.
    expect(room.out.split('\n')[0]).toMatch(/^id\s+name\s+participantLimit\s+version$/);
    expect(room.out).toMatch(/standup\s+standup\s+4\s+1/);

    const listed = await tessera(['--json', 'rooms', 'list'], as);
    expect((JSON.parse(listed.out) as { id: string }[]).map((r) => r.id)).toEqual(['standup']);

    // MAuth signs as well (a fresh nonce per request).
    const token = await tessera(
      ['--json', '--mauth', 'token', 'standup', '--user', 'ada', '--role', 'presenter'],
      as,
    );
    expect(token.code, token.err).toBe(0);
    expect((JSON.parse(token.out) as { token: string }[])[0]!.token.split('.')).toHaveLength(3);

    expect((await tessera(['participants', 'list', 'standup'], as)).out.trim()).toBe('(none)');
    expect((await tessera(['streams', 'list', 'standup'], as)).out.trim()).toBe('(none)');
    expect((await tessera(['recordings', 'list', 'standup'], as)).out.trim()).toBe('(none)');
    expect((await tessera(['rooms', 'delete', 'standup'], as)).out).toContain('deleted room standup');

    const services = await tessera(['services', 'list']);
    expect(services.out).toContain('cli-tenant');
    expect(services.out).not.toContain(service!.key);
    expect((await tessera(['services', 'delete', service!.id])).code).toBe(0);
  });

  it('lists media nodes for the super service', async () => {
    await adapters.nodes.report(nodeReport('node-cli', { region: 'eu' }));
    const nodes = await tessera(['nodes']);
    expect(nodes.code, nodes.err).toBe(0);
    expect(nodes.out).toMatch(/node-cli\s+ready\s+[\d.]+\s+\d+\s+eu/);
  });

  it('lists the commands nodes dead-lettered, with why, never their bodies', async () => {
    expect((await tessera(['dead-letters'])).out.trim()).toBe('(none)');
    const body = JSON.stringify({
      id: 'cmd-1',
      type: 'stream.out',
      roomId: 'svc/standup',
      url: 'rtmp://127.0.0.1/live/secret-stream-key',
    });
    await adapters.commands.deadLetter('node-cli', { body, receiveCount: 1, receipt: 'r' }, 'no such room');
    const dead = await tessera(['dead-letters', '--max', '5']);
    expect(dead.code, dead.err).toBe(0);
    expect(dead.out.split('\n')[0]).toMatch(/^at\s+nodeId\s+type\s+roomId\s+commandId\s+reason$/);
    expect(dead.out).toMatch(/node-cli\s+stream\.out\s+svc\/standup\s+cmd-1\s+no such room/);
    expect(dead.out).not.toContain('secret-stream-key');
    expect((await tessera(['dead-letters', '--max', '0'])).code).toBe(2);
  });

  it('exits 1 with the API error code for a refusal, 2 for a usage mistake, never printing the key', async () => {
    const missing = await tessera(['rooms', 'get', 'no-such-room']);
    expect([missing.code, missing.err.trim()]).toEqual([1, expect.stringMatching(/^error 1003: /)]);
    const forged = await tessera(
      ['rooms', 'list'],
      ['--service-id', SUPER.id, '--service-key', 'wrong-key-0123456789abcdef'],
    );
    expect(forged.code).toBe(1);
    expect(forged.err).toMatch(/^error 1101: /);
    expect(forged.err).not.toContain('wrong-key');
    expect((await tessera(['rooms', 'list'], [])).code).toBe(2);
    expect((await tessera(['token', 'standup'])).code).toBe(2); // --user and --role are required
    expect((await tessera(['recordings', 'start', 'x'])).code).toBe(2);
  });

  it('renders rows as an aligned table or as JSON', () => {
    const rows = [
      { id: 'a', n: 1, tags: ['x'] },
      { id: 'bbb', n: 22 },
    ];
    expect(render(rows, ['id', 'n', 'tags'], false)).toBe('id   n   tags\na    1   ["x"]\nbbb  22');
    expect(JSON.parse(render(rows, ['id'], true))).toEqual(rows);
  });

  it('runs as the package bin, reading its credentials from the environment', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'cli/tessera.ts', '--json', 'services', 'list'],
      {
        env: {
          ...process.env,
          TESSERA_URL: server.url,
          TESSERA_SERVICE_ID: SUPER.id,
          TESSERA_SERVICE_KEY: SUPER.key,
        },
      },
    );
    expect(Array.isArray(JSON.parse(stdout))).toBe(true);
  });
});
