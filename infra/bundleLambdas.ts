// Bundles the Lambda entries with esbuild, as the deployment packages them: one ESM file per
// function, every dependency inside (mediasoup and the media node never are: functions don't
// import them).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const LAMBDA_ENTRIES = {
  http: 'functions/entry/lambdaHttp.ts',
  websocket: 'functions/entry/lambdaWebsocket.ts',
  metrics: 'functions/entry/lambdaMetrics.ts',
  webhooks: 'functions/entry/lambdaWebhooks.ts',
} as const;

/** Each function's package is a directory holding `index.mjs`; its Lambda handler is this. */
export const LAMBDA_HANDLER = 'index.handler';

/** Writes `<outDir>/<name>/index.mjs` for each entry; returns the files' paths. */
export async function bundleLambdas(outDir: string): Promise<Record<keyof typeof LAMBDA_ENTRIES, string>> {
  const out = {} as Record<keyof typeof LAMBDA_ENTRIES, string>;
  for (const [name, entry] of Object.entries(LAMBDA_ENTRIES) as [keyof typeof LAMBDA_ENTRIES, string][]) {
    out[name] = join(outDir, name, 'index.mjs');
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
