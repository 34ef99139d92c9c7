import { beforeEach, describe, expect, it } from 'vitest';
import { bearer, testApp, testSecrets } from '../harness/controlPlane.ts';

const SUPER = testSecrets.superService;
let app: ReturnType<typeof testApp>['app'];

async function post(path: string, auth: string, body: unknown) {
  const res = await app.request(path, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  type Body = { id: string; error: { code: number; issues: { path: string }[] } };
  return { status: res.status, body: (await res.json()) as Body };
}

const superAuth = () => bearer(SUPER.id, SUPER.key);

/** Characters that hide or reorder text: C0, DEL, C1, bidi marks, overrides and isolates. */
const HOSTILE = [
  '\u0000',
  '\n',
  '\u001b[31m',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202e',
  '\u2066',
  '\u2069',
  '\u061c',
];

beforeEach(() => {
  ({ app } = testApp());
});

describe('human-readable names refuse control and bidi-override characters', () => {
  it.each(HOSTILE.map((c) => [`U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`, c]))(
    '%s in a service name',
    async (_, c) => {
      const res = await post('/v1/services', await superAuth(), { name: `acme${c}gpj.exe` });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(1301);
      expect(res.body.error.issues).toEqual([expect.objectContaining({ path: 'name' })]);
    },
  );

  it('in room names, view labels and role names', async () => {
    const auth = await superAuth();
    const bad = [
      { name: 'lobby\u202eexe.' },
      { name: 'lobby', options: { views: [{ label: 'common\u0007' }] } },
      {
        name: 'lobby',
        options: {
          roles: [
            {
              role: 'host\u2066',
              publish: { audio: true, video: true },
              subscribe: { audio: true, video: true },
            },
          ],
        },
      },
    ];
    const paths: string[] = [];
    for (const body of bad) {
      const res = await post('/v1/rooms', auth, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(1301);
      paths.push(res.body.error.issues[0]!.path);
    }
    expect(paths).toEqual(['name', 'options.views.0.label', 'options.roles.0.role']);
  });

  it('in join token user and role', async () => {
    const auth = await superAuth();
    const room = await post('/v1/rooms', auth, { name: 'lobby' });
    expect(room.status).toBe(201);
    const path = `/v1/rooms/${room.body.id}/tokens`;
    const user = await post(path, auth, { user: 'ana\u202egnp.', role: 'presenter' });
    expect([user.status, user.body.error.issues[0]!.path]).toEqual([400, 'user']);
    const role = await post(path, auth, { user: 'ana', role: 'presenter\u0000' });
    expect([role.status, role.body.error.issues[0]!.path]).toEqual([400, 'role']);
    // Ordinary non-ASCII names stay welcome.
    const ok = await post(path, auth, { user: 'Zoë 李 عمر', role: 'presenter' });
    expect(ok.status).toBe(201);
  });
});
