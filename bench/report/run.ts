// Regenerates BENCHMARKS.md and its plots (docs/benchmarks/*.svg) from bench/results/*.json.
// Usage: npm run bench:report
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchmarksDoc } from './benchmarksDoc.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const doc = await benchmarksDoc(join(root, 'bench', 'results'));
for (const plot of doc.plots) {
  mkdirSync(dirname(join(root, plot.file)), { recursive: true });
  writeFileSync(join(root, plot.file), plot.svg);
}
writeFileSync(join(root, 'BENCHMARKS.md'), doc.markdown);
console.log(`wrote BENCHMARKS.md and ${doc.plots.length} plots`);
