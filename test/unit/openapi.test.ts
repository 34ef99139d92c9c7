import { readFileSync } from 'node:fs';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { serverSdkSources } from '../../sdk/server/sources.ts';
import { METHODS } from '../../shared/protocol/signaling.ts';

describe('the OpenAPI document and the server SDK generated from it', () => {
  let sources: Awaited<ReturnType<typeof serverSdkSources>>;
  beforeAll(async () => {
    sources = await serverSdkSources();
  });

  it('are what `npm run sdk:generate` makes from the routes (regenerate after changing a route)', () => {
    expect(readFileSync('sdk/server/openapi.json', 'utf8')).toBe(sources.document);
    expect(readFileSync('sdk/server/schema.ts', 'utf8')).toBe(sources.schema);
    expect(readFileSync('sdk/server/asyncapi.json', 'utf8')).toBe(sources.signaling);
  });

  it('covers the WebSocket protocol: an AsyncAPI 3 operation per signaling method, linted clean', async () => {
    const doc = JSON.parse(sources.signaling) as {
      operations: Record<string, { action: string; summary: string }>;
      channels: {
        signaling: {
          messages: Record<string, { payload: { properties: Record<string, { const?: string }> } }>;
        };
      };
    };
    const called = Object.values(doc.channels.signaling.messages)
      .map((m) => m.payload.properties?.method?.const)
      .filter(Boolean);
    expect(called.sort()).toEqual([...METHODS].sort());
    expect(doc.operations.events?.action).toBe('receive');
    // The join token travels in the `login` message itself, which no AsyncAPI security scheme
    // describes: security-defined is off, every other recommended rule applies.
    const config = await createConfig({ extends: ['recommended'], rules: { 'security-defined': 'off' } });
    const problems = await lintFromString({
      source: sources.signaling,
      absoluteRef: 'asyncapi.json',
      config,
    });
    expect(
      problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} (${p.location[0]?.pointer})`),
    ).toEqual([]);
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
