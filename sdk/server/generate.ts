// Regenerates the server SDK's contract from the management API's routes: sdk/server/openapi.json
// (the document a deployment serves), sdk/server/schema.ts (its types, by openapi-typescript) and
// sdk/server/asyncapi.json (the WebSocket signaling protocol, AsyncAPI 3.0).
// Usage: npm run sdk:generate
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverSdkSources } from './sources.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { document, schema, signaling } = await serverSdkSources();
writeFileSync(join(here, 'openapi.json'), document);
writeFileSync(join(here, 'schema.ts'), schema);
writeFileSync(join(here, 'asyncapi.json'), signaling);
console.log('wrote sdk/server/openapi.json, schema.ts and asyncapi.json');
