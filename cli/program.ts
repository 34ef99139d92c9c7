import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { createTesseraAdmin, ok, type TesseraAdmin, TesseraApiError } from '../sdk/server/index.ts';
import { LoadTestArgsSchema, progressLine, resultTables, saturationWarning } from './loadTest/report.ts';

/** Where the CLI writes: stdout and stderr, or a test's buffers. */
export interface CliOutput {
  out: (text: string) => void;
  err: (text: string) => void;
  /** A live status line (a terminal rewrites it in place); on `err`, a line each, by default. */
  progress?: (line: string) => void;
}

interface GlobalOptions {
  url: string;
  serviceId?: string;
  serviceKey?: string;
  mauth?: boolean;
  json?: boolean;
}

type Row = Record<string, unknown>;

/** Rows as an aligned text table (nested values as compact JSON), or as JSON with --json. */
export function render(rows: Row[], columns: string[], json: boolean): string {
  if (json) return JSON.stringify(rows, null, 2);
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) =>
    v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const table = [columns, ...rows.map((r) => columns.map((c) => cell(r[c])))];
  const widths = columns.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
  return table
    .map((line) =>
      line
        .map((v, i) => v.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * The `tessera` command line: the management API through the server SDK. Credentials come from
 * options or TESSERA_URL, TESSERA_SERVICE_ID and TESSERA_SERVICE_KEY; the key is never printed.
 */
export function cliProgram(io: CliOutput, fetch?: (request: Request) => Promise<Response>): Command {
  const program = new Command('tessera')
    .description(
      'Manage a Tessera deployment: services, rooms, tokens, participants, streams, recordings, nodes, dead letters; load-test it',
    )
    .addOption(
      new Option('--url <url>', 'the deployment').env('TESSERA_URL').default('http://127.0.0.1:8080'),
    )
    .addOption(new Option('--service-id <id>', 'the service that signs').env('TESSERA_SERVICE_ID'))
    .addOption(new Option('--service-key <key>', "the service's key").env('TESSERA_SERVICE_KEY'))
    .option('--mauth', "sign with OWT's MAuth instead of a bearer JWT")
    .option('--json', 'print JSON instead of a table')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError();

  const admin = (): TesseraAdmin => {
    const o = program.opts<GlobalOptions>();
    if (!o.serviceId || !o.serviceKey)
      throw new UsageError(
        'a service id and key are needed: --service-id/--service-key or TESSERA_SERVICE_ID/TESSERA_SERVICE_KEY',
      );
    return createTesseraAdmin({
      baseUrl: o.url,
      credentials: { serviceId: o.serviceId, key: o.serviceKey, scheme: o.mauth ? 'mauth' : 'bearer' },
      ...(fetch ? { fetch } : {}),
    });
  };
  const print = (rows: Row[], columns: string[]) =>
    io.out(`${render(rows, columns, program.opts<GlobalOptions>().json === true)}\n`);
  const done = (what: string) => io.out(`${what}\n`);
  const room = (id: string) => ({ params: { path: { room: id } } });

  const services = program.command('services').description('services (the super service manages them)');
  services
    .command('list')
    .action(async () => print(ok(await admin().GET('/v1/services')), ['id', 'name', 'createdAt']));
  services
    .command('create <name>')
    .description('create a service; its key is printed this once')
    .action(async (name: string) =>
      print([ok(await admin().POST('/v1/services', { body: { name } }))], ['id', 'name', 'key']),
    );
  services.command('delete <service>').action(async (service: string) => {
    ok(await admin().DELETE('/v1/services/{service}', { params: { path: { service } } }));
    done(`deleted service ${service}`);
  });

  const rooms = program.command('rooms').description("the service's rooms");
  const roomColumns = ['id', 'name', 'participantLimit', 'version'];
  rooms.command('list').action(async () => print(ok(await admin().GET('/v1/rooms')), roomColumns));
  rooms
    .command('create <name>')
    .option('--id <id>', 'the room id (else one is made)')
    .option('--participant-limit <n>', 'at most this many participants', Number)
    .action(async (name: string, o: { id?: string; participantLimit?: number }) =>
      print(
        [
          ok(
            await admin().POST('/v1/rooms', {
              body: {
                name,
                ...(o.id ? { id: o.id } : {}),
                ...(o.participantLimit !== undefined
                  ? { options: { participantLimit: o.participantLimit } }
                  : {}),
              },
            }),
          ),
        ],
        roomColumns,
      ),
    );
  rooms
    .command('get <room>')
    .action(async (id: string) => print([ok(await admin().GET('/v1/rooms/{room}', room(id)))], roomColumns));
  rooms.command('delete <room>').action(async (id: string) => {
    ok(await admin().DELETE('/v1/rooms/{room}', room(id)));
    done(`deleted room ${id}`);
  });

  program
    .command('token <room>')
    .description('issue a join token for a user with one of the room’s roles')
    .requiredOption('--user <user>')
    .requiredOption('--role <role>')
    .action(async (id: string, o: { user: string; role: string }) => {
      const issued = ok(
        await admin().POST('/v1/rooms/{room}/tokens', { ...room(id), body: { user: o.user, role: o.role } }),
      );
      const token = typeof issued === 'string' ? { token: issued } : issued;
      print([token], ['token', 'expiresAt']);
    });

  const participants = program.command('participants').description("a room's participants");
  participants
    .command('list <room>')
    .action(async (id: string) =>
      print(ok(await admin().GET('/v1/rooms/{room}/participants', room(id))), [
        'id',
        'user',
        'role',
        'joinedAt',
      ]),
    );
  participants.command('drop <room> <participant>').action(async (id: string, participant: string) => {
    ok(
      await admin().DELETE('/v1/rooms/{room}/participants/{participant}', {
        params: { path: { room: id, participant } },
      }),
    );
    done(`dropped ${participant}`);
  });

  const streams = program.command('streams').description("a room's streams");
  streams.command('list <room>').action(async (id: string) => {
    const list = ok(await admin().GET('/v1/rooms/{room}/streams', room(id)));
    print(
      list.map((s) => ({
        id: s.id,
        type: s.type,
        owner: s.info.owner,
        audio: s.media.audio ? 'yes' : 'no',
        video: s.media.video ? 'yes' : 'no',
      })),
      ['id', 'type', 'owner', 'audio', 'video'],
    );
  });
  streams.command('remove <room> <stream>').action(async (id: string, stream: string) => {
    ok(await admin().DELETE('/v1/rooms/{room}/streams/{stream}', { params: { path: { room: id, stream } } }));
    done(`removed ${stream}`);
  });

  const recordings = program.command('recordings').description("a room's recordings");
  const recordingColumns = ['id', 'status', 'container', 'bytes', 'durationMs'];
  recordings
    .command('list <room>')
    .action(async (id: string) =>
      print(ok(await admin().GET('/v1/rooms/{room}/recordings', room(id))), recordingColumns),
    );
  recordings
    .command('start <room>')
    .option('--audio <stream>', 'the stream whose audio is recorded')
    .option('--video <stream>', 'the stream whose video is recorded')
    .addOption(new Option('--container <container>').choices(['auto', 'mkv', 'mp4', 'webm']).default('auto'))
    .action(
      async (
        id: string,
        o: { audio?: string; video?: string; container: 'auto' | 'mkv' | 'mp4' | 'webm' },
      ) => {
        if (!o.audio && !o.video) throw new UsageError('--audio, --video or both name what to record');
        const media = {
          audio: o.audio ? { from: o.audio } : (false as const),
          video: o.video ? { from: o.video } : (false as const),
        };
        print(
          [
            ok(
              await admin().POST('/v1/rooms/{room}/recordings', {
                ...room(id),
                body: { container: o.container, media },
              }),
            ),
          ],
          recordingColumns,
        );
      },
    );
  recordings.command('stop <room> <recording>').action(async (id: string, recording: string) => {
    ok(
      await admin().DELETE('/v1/rooms/{room}/recordings/{recording}', {
        params: { path: { room: id, recording } },
      }),
    );
    done(`stopping ${recording}`);
  });

  program
    .command('load-test')
    .description(
      'join simulated publishers and subscribers (WebRTC in Node) to a room, measure, and compare with /metrics',
    )
    .option('--room <room>', 'an existing room (else a room is made for the run and deleted after)')
    .option('--publishers <n>', 'publishers, each sending a synthetic camera', '2')
    .option('--subscribers <n>', 'subscribers, each receiving every publisher', '4')
    .option('--duration <seconds>', 'how long to measure once everyone receives everything', '10')
    .option('--video <WxH@fps>', "the publishers' synthetic camera", '160x120@10')
    .option('--audio', 'publishers send a microphone too (a tone)', false)
    .option('--concurrency <n>', 'joins in flight at once', '4')
    .option('--publisher-role <role>', "the publishers' role", 'presenter')
    .option('--subscriber-role <role>', "the subscribers' role", 'viewer')
    .option('--metrics <url>', "the server's Prometheus metrics (default <url>/metrics)")
    .option('--no-metrics', 'do not read the server’s metrics')
    .option('--signaling-url <url>', 'the signaling WebSocket (default <url>/ws)')
    .option('--report <file>', 'also write the figures as JSON to this file')
    .action(async ({ report, ...raw }: Record<string, unknown>) => {
      const parsed = LoadTestArgsSchema.safeParse(raw);
      if (!parsed.success)
        throw new UsageError(
          parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n'),
        );
      const o = parsed.data;
      const api = admin();
      const url = program.opts<GlobalOptions>().url;
      const id = o.room ?? `load-test-${Date.now().toString(36)}`;
      // A room of its own has no views: OWT's default view would start a mixer for the run.
      if (!o.room) ok(await api.POST('/v1/rooms', { body: { name: id, id, options: { views: [] } } }));
      try {
        // WebRTC (a native library) loads only for this command.
        const { runLoadTest } = await import('./loadTest/LoadTest.ts');
        const result = await runLoadTest({
          url,
          ...(o.signalingUrl ? { signalingUrl: o.signalingUrl } : {}),
          publishers: o.publishers,
          subscribers: o.subscribers,
          durationMs: o.duration * 1000,
          video: o.video,
          audio: o.audio,
          concurrency: o.concurrency,
          ...(o.metrics !== false ? { metricsUrl: o.metrics ?? `${url.replace(/\/$/, '')}/metrics` } : {}),
          token: async (user, as) => {
            const role = as === 'publisher' ? o.publisherRole : o.subscriberRole;
            const issued = ok(
              await api.POST('/v1/rooms/{room}/tokens', { ...room(id), body: { user, role } }),
            );
            return typeof issued === 'string' ? issued : issued.token;
          },
          onProgress: (p) => (io.progress ?? ((line) => io.err(`${line}\n`)))(progressLine(p)),
        });
        if (typeof report === 'string') await writeFile(report, JSON.stringify(result, null, 2));
        if (program.opts<GlobalOptions>().json) return io.out(`${JSON.stringify(result, null, 2)}\n`);
        const tables = resultTables(result);
        io.out(
          `\nload test in room ${id}: ${o.publishers} publishers, ${o.subscribers} subscribers, ` +
            `measured over ${(result.windowMs / 1000).toFixed(1)} s\n\n` +
            `${render(tables.timings, ['what', 'n', 'p50', 'p95', 'p99', 'max'], false)}\n\n` +
            `${render(tables.figures, ['what', 'clients', 'server'], false)}\n` +
            saturationWarning(result) +
            (result.failures.length
              ? `\n${result.failures.length} failed: ${result.failures.slice(0, 5).join('; ')}\n`
              : ''),
        );
        if (result.failures.length) throw new Error(`${result.failures.length} simulated users failed`);
      } finally {
        if (!o.room) await api.DELETE('/v1/rooms/{room}', room(id)).catch(() => undefined);
      }
    });

  program
    .command('dead-letters')
    .description('commands media nodes gave up on, with why (super service; left in the queue)')
    .option('--max <n>', 'at most this many', '20')
    .action(async (o: { max: string }) => {
      const max = Number(o.max);
      if (!Number.isInteger(max) || max < 1 || max > 100)
        throw new UsageError('--max: a whole number from 1 to 100');
      print(ok(await admin().GET('/v1/dead-letters', { params: { query: { max } } })), [
        'at',
        'nodeId',
        'type',
        'roomId',
        'commandId',
        'reason',
      ]);
    });

  program
    .command('nodes')
    .description('media nodes with their load and state (super service)')
    .action(async () =>
      print(ok(await admin().GET('/v1/nodes')), ['id', 'state', 'load', 'rooms', 'region']),
    );

  return program;
}

/** A mistake in how the command was called (exit code 2), not an answer of the server. */
export class UsageError extends Error {}

/** Runs one command line; its exit code (0 done, 1 the server refused, 2 a usage error). */
export async function runCli(
  argv: string[],
  io: CliOutput,
  fetch?: (request: Request) => Promise<Response>,
): Promise<number> {
  const program = cliProgram(io, fetch);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof TesseraApiError) {
      io.err(`error ${error.code ?? error.status}: ${error.message}\n`);
      return 1;
    }
    if (error instanceof UsageError) {
      io.err(`${error.message}\n`);
      return 2;
    }
    const exit = error as { code?: string; exitCode?: number };
    // commander's own exits (help, version, a missing argument): it has printed why.
    if (typeof exit.code === 'string' && exit.code.startsWith('commander.'))
      return exit.exitCode === 0 ? 0 : 2;
    io.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
