import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const FOLDERS = ['shared', 'functions', 'media-node', 'client', 'embedded', 'cli', 'test', 'bench', 'infra'];

/** The import graph under `baseDir`, judged by the house rules (.dependency-cruiser.cjs). */
async function judge(baseDir: string, folders: string[], tsConfig?: string): Promise<ICruiseResult> {
  const options = await extractDepcruiseOptions(join(root, '.dependency-cruiser.cjs'));
  const { output } = await cruise(
    folders.filter((f) => existsSync(join(baseDir, f))),
    { ...options, baseDir, validate: true, outputType: 'json' },
    undefined,
    tsConfig ? { tsConfig: extractTSConfig(tsConfig) } : undefined,
  );
  return typeof output === 'string' ? JSON.parse(output) : output;
}

const violations = (result: ICruiseResult) =>
  result.summary.violations.map(
    (v) =>
      `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(' → ')})` : ''}`,
  );

describe('the import graph', () => {
  it('has no circle and no arrow running back up a floor', async () => {
    const result = await judge(root, FOLDERS, join(root, 'tsconfig.json'));
    expect(violations(result)).toEqual([]);
    // The check saw the house, with its arrows resolved (a path typo would leave it judging nothing).
    const seen = new Map(result.modules.map((m) => [m.source, m.dependencies.map((d) => d.resolved)]));
    expect(seen.get('media-node/workers/WorkerPool.ts')).toContain('media-node/codecs/h265.ts');
    expect(seen.get('functions/app.ts')?.length).toBeGreaterThan(3);
    expect(result.summary.totalCruised).toBeGreaterThan(150);
  }, 60_000);

  describe('catches', () => {
    const dirs: string[] = [];
    afterAll(() => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });
    /** A small tree of its own, planted with what the rules must find. */
    const plant = (files: Record<string, string>) => {
      const dir = mkdtempSync(join(tmpdir(), 'import-graph-'));
      dirs.push(dir);
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      return dir;
    };

    it('a circle, a type-only one too', async () => {
      const dir = plant({
        'shared/a.ts': "import type { B } from './b.ts';\nexport type A = B[];\n",
        'shared/b.ts': "import { a } from './c.ts';\nexport type B = typeof a;\n",
        'shared/c.ts': "import type { A } from './a.ts';\nexport const a: A = [];\n",
      });
      expect(violations(await judge(dir, ['shared']))).toEqual([
        'no-circular: shared/a.ts → shared/b.ts (shared/b.ts → shared/c.ts → shared/a.ts)',
      ]);
    });

    it('arrows running back up', async () => {
      const dir = plant({
        'shared/errors.ts': "import { x } from '../functions/app.ts';\nexport const e = x;\n",
        'functions/app.ts': "import { Room } from '../media-node/sfu/Room.ts';\nexport const x = Room;\n",
        'media-node/sfu/Room.ts':
          "import { MediaNode } from '../MediaNode.ts';\nexport const Room = MediaNode;\n",
        'media-node/MediaNode.ts': 'export const MediaNode = 1;\n',
        'media-node/workers/WorkerPool.ts': "import { C } from '../cascade/C.ts';\nexport const W = C;\n",
        'media-node/cascade/C.ts': "import { H } from '../commands/H.ts';\nexport const C = H;\n",
        'media-node/commands/H.ts': 'export const H = 1;\n',
      });
      expect(violations(await judge(dir, ['shared', 'functions', 'media-node'])).sort()).toEqual([
        'functions-without-media: functions/app.ts → media-node/sfu/Room.ts',
        'media-node-floor-0: media-node/workers/WorkerPool.ts → media-node/cascade/C.ts',
        'media-node-floor-1: media-node/sfu/Room.ts → media-node/MediaNode.ts',
        'media-node-floor-2: media-node/cascade/C.ts → media-node/commands/H.ts',
        'shared-stays-below: shared/errors.ts → functions/app.ts',
      ]);
    });
  });
});
