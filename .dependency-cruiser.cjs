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

const floorRules = mediaNodeFloors.slice(0, -1).map((floor, i) => ({
  name: `media-node-floor-${i}`,
  comment: `media-node/{${floor.join(',')}} may not import a higher floor`,
  severity: 'error',
  from: { path: under(floor) },
  to: { path: under(mediaNodeFloors.slice(i + 1).flat()) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import circle: one of its files must give way (a port, or a move down a floor)',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-stays-below',
      comment: 'shared/ is the ground floor: contracts, ports and adapters every process uses',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(functions|media-node|client|embedded|cli)/' },
    },
    {
      name: 'functions-without-media',
      comment: 'the functions never hold media; only the embedded composition root starts a media node',
      severity: 'error',
      from: { path: '^functions/', pathNot: '^functions/composeEmbedded\\.ts$' },
      to: { path: '^media-node/' },
    },
    {
      name: 'media-node-without-functions',
      comment: 'a media node talks to the functions over ports (queues, live state), never by import',
      severity: 'error',
      from: { path: '^media-node/' },
      to: { path: '^(functions|client|embedded|cli)/' },
    },
    {
      name: 'client-stands-alone',
      comment: 'the browser SDK shares wire contracts only',
      severity: 'error',
      from: { path: '^client/' },
      to: { path: '^(functions|media-node|embedded|cli)/' },
    },
    ...floorRules,
    {
      name: 'resolvable',
      comment: 'an import the cruiser cannot resolve is an arrow this check cannot see',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
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
