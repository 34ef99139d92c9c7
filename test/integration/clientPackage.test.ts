import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = process.cwd();
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = (cwd: string, command: string, args: string[]) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A consumer of the SDK, typed strictly: it must compile against the package's declarations. */
const APP = `
import {
  type ConnectionState,
  ErrorCodes,
  type JoinOptions,
  TesseraClient,
  TesseraClientError,
} from '@tessera/client';

export async function meet(token: string): Promise<ConnectionState[]> {
  const options: JoinOptions = { url: 'http://127.0.0.1:8080', token, autoSubscribe: 'mixed' };
  const seen: ConnectionState[] = [];
  try {
    const client = await TesseraClient.join(options);
    client.on('connectionstatechange', ({ state }) => seen.push(state));
    client.on('track', (remote) => console.log(remote.track.kind));
  } catch (error) {
    if (error instanceof TesseraClientError && error.code === ErrorCodes.roomNotFound) return [];
    throw error;
  }
  return seen;
}

// @ts-expect-error: JoinOptions needs a token
export const missing: JoinOptions = { url: 'http://127.0.0.1:8080' };
// @ts-expect-error: not an event of the client
export const handler = (client: TesseraClient) => client.on('no-such-event', () => {});
`;

describe('the SDK as a package (@tessera/client)', () => {
  let scratch: string;
  let tarball: string;

  beforeAll(() => {
    run(root, process.execPath, ['--import', 'tsx', 'client/build.ts']);
    scratch = mkdtempSync(join(tmpdir(), 'tessera-sdk-consumer-'));
    const [packed] = JSON.parse(
      run(join(root, 'client'), 'npm', ['pack', '--json', '--pack-destination', scratch]),
    ) as {
      filename: string;
      files: { path: string }[];
    }[];
    tarball = join(scratch, packed!.filename);
    writeFileSync(
      join(scratch, 'package.json'),
      JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }),
    );
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          strict: true,
          noEmit: true,
          types: [],
        },
        files: ['app.ts'],
      }),
    );
    writeFileSync(join(scratch, 'app.ts'), APP);
    // Its dependencies (mediasoup-client, zod) come from the npm cache the repository's install filled.
    run(scratch, 'npm', [
      'install',
      tarball,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ]);
  }, 180_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('installs from the packed tarball with its ESM bundle, declarations and README only', () => {
    const listed = run(scratch, 'tar', ['-tzf', tarball]).split('\n').filter(Boolean);
    expect(listed).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/README.md',
        'package/dist/index.js',
        'package/dist/types/client/index.d.ts',
      ]),
    );
    expect(listed.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it("type-checks a strict consumer (and its @ts-expect-error lines prove the types are not 'any')", () => {
    let output = '';
    try {
      run(scratch, process.execPath, [tsc, '-p', 'tsconfig.json']);
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe('');
  });

  it('has its API reference generated from the types (`npm run docs:client` after changing the SDK)', () => {
    const out = join(scratch, 'api');
    run(root, process.execPath, [
      join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'),
      '--options',
      'client/typedoc.json',
      '--out',
      out,
      '--logLevel',
      'Error',
    ]);
    const generated = readFileSync(join(out, 'README.md'), 'utf8');
    expect(generated).toContain('### TesseraClient');
    expect(generated).toContain('setMuted');
    expect(readFileSync(join(root, 'docs', 'client-api', 'README.md'), 'utf8')).toBe(generated);
  }, 120_000);

  it('loads as ESM with its dependencies resolved', () => {
    const out = run(scratch, process.execPath, [
      '--input-type=module',
      '-e',
      "const m = await import('@tessera/client'); console.log(JSON.stringify([typeof m.TesseraClient.join, m.ErrorCodes.roomNotFound, new m.TesseraClientError(1003, 'x') instanceof Error]));",
    ]);
    expect(JSON.parse(out)).toEqual(['function', 1003, true]);
  });
});
