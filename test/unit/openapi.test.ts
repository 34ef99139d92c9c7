import { readFileSync } from 'node:fs';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { serverSdkSources } from '../../sdk/server/sources.ts';

describe('the OpenAPI document and the server SDK generated from it', () => {
  let sources: Awaited<ReturnType<typeof serverSdkSources>>;
  beforeAll(async () => {
    sources = await serverSdkSources();
  });

  it('are what `npm run sdk:generate` makes from the routes (regenerate after changing a route)', () => {
    expect(readFileSync('sdk/server/openapi.json', 'utf8')).toBe(sources.document);
    expect(readFileSync('sdk/server/schema.ts', 'utf8')).toBe(sources.schema);
  });

  it("lints clean with Redocly's recommended rules: no error and no warning", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: sources.document, absoluteRef: 'openapi.json', config });
    expect(
      problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} (${p.location[0]?.pointer})`),
    ).toEqual([]);
  });

  it('names every operation, summarises it, documents its errors, and names the wire schemas', () => {
    const doc = JSON.parse(sources.document) as {
      servers: unknown[];
      components: { schemas: Record<string, unknown> };
      paths: Record<
        string,
        Record<string, { operationId?: string; summary?: string; responses: Record<string, unknown> }>
      >;
    };
    expect(doc.servers.length).toBeGreaterThan(0);
    const ops = Object.values(doc.paths).flatMap((methods) => Object.values(methods));
    expect(ops.length).toBeGreaterThanOrEqual(37);
    for (const op of ops) {
      expect(op.operationId).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.summary, op.operationId).toBeTruthy();
      expect(Object.keys(op.responses), op.operationId).toEqual(
        expect.arrayContaining(['400', '401', '404']),
      );
    }
    expect(new Set(ops.map((o) => o.operationId)).size).toBe(ops.length);
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'Room',
        'RoomRequest',
        'Token',
        'Participant',
        'Stream',
        'Recording',
        'StreamingOut',
        'Error',
      ]),
    );
  });
});
