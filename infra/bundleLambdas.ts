// Bundles the Lambda entries with esbuild, as the deployment packages them: one ESM file per
// function, every dependency inside (mediasoup and the media node never are: functions don't
// import them).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const LAMBDA_ENTRIES = {
  http: 'functions/entry/lambdaHttp.ts',
  websocket: 'functions/entry/lambdaWebsocket.ts',
} as const;

/** Writes `<outDir>/<name>.mjs` for each entry; returns their paths. */
export async function bundleLambdas(outDir: string): Promise<Record<keyof typeof LAMBDA_ENTRIES, string>> {
  mkdirSync(outDir, { recursive: true });
  const out = {} as Record<keyof typeof LAMBDA_ENTRIES, string>;
  for (const [name, entry] of Object.entries(LAMBDA_ENTRIES) as [keyof typeof LAMBDA_ENTRIES, string][]) {
    out[name] = join(outDir, `${name}.mjs`);
    await build({
      entryPoints: [join(root, entry)],
      outfile: out[name],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      minify: true,
      sourcemap: false,
      logLevel: 'silent',
      // CommonJS dependencies inside an ESM bundle still call require().
      banner: {
        js: "import { createRequire as __tesseraRequire } from 'node:module'; const require = __tesseraRequire(import.meta.url);",
      },
    });
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outDir = process.argv[2] ?? join(root, 'dist', 'lambda');
  console.log(await bundleLambdas(outDir));
}
