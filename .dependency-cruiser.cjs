/**
 * The house's import rules, checked by test/unit/importGraph.test.ts (or by hand:
 * `npx depcruise shared functions media-node client test`): no import circles, and no arrow
 * running back up a floor. shared/ is the ground floor; functions/ and media-node/ stand on it
 * side by side; client/ is the browser's and shares only shared/.
 */

// The media node's floors, bottom first: a folder imports only from its own floor or the ones below.
const mediaNodeFloors = [
  ['codecs', 'workers', 'ffmpeg', 'turn'],
  ['sfu'],
  ['pipelines', 'cascade', 'signaling', 'events', 'metrics', 'capacity', 'liveState'],
  ['mcu', 'streaming', 'recording', 'commands', 'sip'],
  ['MediaNode\\.ts$'],
  ['compose\\.ts$', 'entry'],
];

const under = (folders) => `^media-node/(${folders.join('|')})(/|$)`;

/** An arrow that must not be: from the files matching `from`, to those matching `to`. */
const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from, to });

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    forbid(
      'no-circular',
      'an import circle: one of its files must give way (a port, or a move down a floor)',
      {},
      { circular: true },
    ),
    forbid(
      'shared-stays-below',
      'shared/ is the ground floor: contracts, ports and adapters every process uses',
      { path: '^shared/' },
      { path: '^(functions|media-node|client|embedded|cli)/' },
    ),
    forbid(
      'functions-without-media',
      'the functions never hold media; only the embedded composition root starts a media node',
      { path: '^functions/', pathNot: '^functions/composeEmbedded\\.ts$' },
      { path: '^media-node/' },
    ),
    forbid(
      'media-node-without-functions',
      'a media node talks to the functions over ports (queues, live state), never by import',
      { path: '^media-node/' },
      { path: '^(functions|client|embedded|cli)/' },
    ),
    forbid(
      'client-stands-alone',
      'the browser SDK shares wire contracts only',
      { path: '^client/' },
      { path: '^(functions|media-node|embedded|cli)/' },
    ),
    ...mediaNodeFloors
      .slice(0, -1)
      .map((floor, i) =>
        forbid(
          `media-node-floor-${i}`,
          `media-node/{${floor.join(',')}} may not import a higher floor`,
          { path: under(floor) },
          { path: under(mediaNodeFloors.slice(i + 1).flat()) },
        ),
      ),
    forbid(
      'resolvable',
      'an import the cruiser cannot resolve is an arrow this check cannot see',
      {},
      { couldNotResolve: true },
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    // `import type` arrows count: a type-only circle still ties two files together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6', 'cjs'],
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts', '.json'],
    },
  },
};
