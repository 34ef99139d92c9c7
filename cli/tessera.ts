#!/usr/bin/env -S node --import tsx
// The `tessera` command line (cli/program.ts). Usage: npm run tessera -- rooms list
import { runCli } from './program.ts';

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  ...(process.stderr.isTTY ? { progress: (line: string) => process.stderr.write(`\r\x1b[2K${line}`) } : {}),
});
// Exit now rather than when the loop drains: libwebrtc (load-test) crashes in its teardown at a
// natural exit. stdout and stderr are synchronous for files, pipes and terminals on Linux.
process.exit(code);
