import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { bearer } from '../harness/controlPlane.ts';
import { freePort } from '../harness/ports.ts';

// The README's start command ends in this entry; run it as a user would, on PORT.
describe('embedded server entry', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('listens on $PORT, answers /healthz and the management API, and stops on SIGTERM', async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', 'functions/entry/embedded.ts'], {
      // Embedded: nothing distributed configured (the suite's own REDIS_URL etc. are blanked).
      env: {
        ...process.env,
        PORT: String(port),
        MEDIA_WORKERS: '1',
        LOG_LEVEL: 'warn',
        REDIS_URL: '',
        DYNAMODB_TABLE: '',
        SQS_QUEUE_PREFIX: '',
        SUPER_SERVICE_KEY: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr!.on('data', (d) => {
      output += d;
    });
    const url = await new Promise<string>((resolve, reject) => {
      child!.stdout!.on('data', (d: Buffer) => {
        const match = d.toString().match(/running: (http:\/\/[^/\s]+)\//);
        if (match) resolve(match[1]!);
      });
      child!.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    expect(url).toBe(`http://127.0.0.1:${port}`);

    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', media: { workers: 1, workersAlive: 1 } });

    // The management API answers with the super-service credentials the server generated.
    const credentials = JSON.parse(readFileSync('.tessera/super-service.json', 'utf8')) as {
      id: string;
      key: string;
    };
    const authorization = await bearer(credentials.id, credentials.key);
    const created = await fetch(`${url}/v1/rooms`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'embedded' }),
    });
    expect(created.status).toBe(201);
    const listed = await fetch(`${url}/v1/rooms`, { headers: { authorization } });
    expect((await listed.json()).map((r: { name: string }) => r.name)).toEqual(['embedded']);
    expect(output).not.toContain(credentials.key);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
