// Builds the @tessera/client package into client/dist: one ESM bundle (esbuild; mediasoup-client
// and zod stay dependencies) and its type declarations (tsc). Usage: npm run build:client
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: [join(here, 'index.ts')],
  outfile: join(dist, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  external: ['mediasoup-client', 'zod'],
  sourcemap: true,
  legalComments: 'none',
});
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.build.json')], { stdio: 'inherit' });
// tsc keeps the sources' `.ts` specifiers; a consumer resolves the published `.js` form.
for (const file of readdirSync(join(dist, 'types'), { recursive: true, encoding: 'utf8' }))
  if (file.endsWith('.d.ts')) {
    const path = join(dist, 'types', file);
    writeFileSync(path, readFileSync(path, 'utf8').replace(/(from '\.{1,2}\/[^']+)\.ts'/g, "$1.js'"));
  }
console.log('built client/dist (index.js, types/)');
