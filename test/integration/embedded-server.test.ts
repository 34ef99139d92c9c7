import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/ports.ts';

// The README's start command ends in this entry; run it as a user would, on PORT.
describe('embedded server entry', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('listens on $PORT, answers GET /healthz with its media workers, and stops on SIGTERM', async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', 'functions/entry/embedded.ts'], {
      env: { ...process.env, PORT: String(port), MEDIA_WORKERS: '1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr!.on('data', (d) => {
      output += d;
    });
    const url = await new Promise<string>((resolve, reject) => {
      child!.stdout!.on('data', (d: Buffer) => {
        const match = d.toString().match(/(http:\/\/\S+)\/healthz/);
        if (match) resolve(match[1]!);
      });
      child!.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    expect(url).toBe(`http://127.0.0.1:${port}`);

    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', media: { workers: 1, workersAlive: 1 } });

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
