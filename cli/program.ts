import { Command, Option } from 'commander';
import { createTesseraAdmin, ok, type TesseraAdmin, TesseraApiError } from '../sdk/server/index.ts';

/** Where the CLI writes: stdout and stderr, or a test's buffers. */
export interface CliOutput {
  out: (text: string) => void;
  err: (text: string) => void;
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
      'Manage a Tessera deployment: services, rooms, tokens, participants, streams, recordings, nodes',
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
