#!/usr/bin/env -S node --import tsx
// The `tessera` command line (cli/program.ts). Usage: npm run tessera -- rooms list
import { runCli } from './program.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
