// Regenerates the server SDK's contract from the management API's routes: sdk/server/openapi.json
// (the document a deployment serves) and sdk/server/schema.ts (its types, by openapi-typescript).
// Usage: npm run sdk:generate
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverSdkSources } from './sources.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { document, schema } = await serverSdkSources();
writeFileSync(join(here, 'openapi.json'), document);
writeFileSync(join(here, 'schema.ts'), schema);
console.log('wrote sdk/server/openapi.json and sdk/server/schema.ts');
