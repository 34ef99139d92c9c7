import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, serveNode } from '../../functions/http/serveNode.ts';
import type { Adapters } from '../../shared/adapters/select.ts';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { owtRestApi } from '../fixtures/owtServerSdk.ts';
import { bearer, testApp, testSecrets } from '../harness/controlPlane.ts';
import { seedLiveRoom } from '../harness/liveState.ts';

/**
 * OWT's documented REST requests (owt-server doc/servermd/RESTAPI.md at e0d043e) sent the way
 * OWT's Node server SDK sends them (test/fixtures/owtServerSdk.ts: its MAuth header, paths with
 * trailing slashes, headers), over real HTTP on 127.0.0.1, answered in OWT's shapes.
 */
const SUPER = testSecrets.superService;
let server: RunningServer;
let adapters: Adapters;
let owt: ReturnType<typeof owtRestApi>;
let superOwt: ReturnType<typeof owtRestApi>;
let service: { id: string; key: string };

/** A request with OWT's header to a path OWT documents (not one its SDK builds). */
async function owtCall(api: ReturnType<typeof owtRestApi>, method: string, path: string, body?: unknown) {
  const res = await fetch(server.url + path, {
    method,
    headers: {
      authorization: api.mauthHeader(),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}

/** The room object of RESTAPI.md §5.1 with every field, at OWT's defaults (defaults.js, roomModel.js). */
const owtDefaultView = {
  label: 'common',
  audio: { format: { codec: 'opus', sampleRate: 48000, channelNum: 2 }, vad: true },
  video: {
    format: { codec: 'vp8' },
    parameters: { resolution: { width: 640, height: 480 }, framerate: 24, keyFrameInterval: 100 },
    maxInput: 16,
    motionFactor: 0.8,
    bgColor: { r: 0, g: 0, b: 0 },
    keepActiveInputPrimary: false,
    layout: { fitPolicy: 'letterbox', templates: { base: 'fluid', custom: [] } },
  },
};
const fullOwtRoom = {
  name: 'full',
  participantLimit: 30,
  inputLimit: -1,
  roles: [
    { role: 'presenter', publish: { audio: true, video: true }, subscribe: { audio: true, video: true } },
    { role: 'guest', publish: { audio: true, video: false }, subscribe: { audio: true, video: true } },
  ],
  views: [owtDefaultView],
  mediaIn: {
    audio: [
      { codec: 'opus', sampleRate: 48000, channelNum: 2 },
      { codec: 'isac', sampleRate: 16000 },
      { codec: 'isac', sampleRate: 32000 },
      { codec: 'g722', sampleRate: 16000, channelNum: 1 },
      { codec: 'pcma' },
      { codec: 'pcmu' },
      { codec: 'aac' },
      { codec: 'ac3' },
      { codec: 'nellymoser' },
      { codec: 'ilbc' },
    ],
    video: [{ codec: 'h264' }, { codec: 'vp8' }, { codec: 'vp9' }],
  },
  mediaOut: {
    audio: [
      { codec: 'opus', sampleRate: 48000, channelNum: 2 },
      { codec: 'isac', sampleRate: 16000 },
      { codec: 'isac', sampleRate: 32000 },
      { codec: 'g722', sampleRate: 16000, channelNum: 1 },
      { codec: 'pcma' },
      { codec: 'pcmu' },
      { codec: 'aac', sampleRate: 48000, channelNum: 2 },
      { codec: 'ac3' },
      { codec: 'nellymoser' },
      { codec: 'ilbc' },
    ],
    video: {
      format: [
        { codec: 'vp8' },
        { codec: 'h264', profile: 'CB' },
        { codec: 'h264', profile: 'B' },
        { codec: 'vp9' },
      ],
      parameters: {
        resolution: [
          'x3/4',
          'x2/3',
          'x1/2',
          'x1/3',
          'x1/4',
          'hd1080p',
          'hd720p',
          'svga',
          'vga',
          'qvga',
          'cif',
        ],
        framerate: [6, 12, 15, 24, 30, 48, 60],
        bitrate: ['x0.8', 'x0.6', 'x0.4', 'x0.2'],
        keyFrameInterval: [100, 30, 5, 2, 1],
      },
    },
  },
  transcoding: {
    audio: true,
    video: {
      format: true,
      parameters: { resolution: true, framerate: true, bitrate: true, keyFrameInterval: true },
    },
  },
  notifying: { participantActivities: true, streamChange: true },
  selectActiveAudio: false,
  enableBandwidthAdaptation: false,
  sip: { sipServer: '', username: '', password: '' },
};

/** A live room: a participant and a forward stream as signaling and the media node write them. */
async function liveRoom() {
  const created = await owt.createRoom('live');
  const room = created.body._id as string;
  const key = roomKey(service.id, room);
  await seedLiveRoom(adapters, key, {
    media: {
      audio: { status: 'active', format: { codec: 'opus', sampleRate: 48000, channelNum: 2 }, source: 'mic' },
      video: { status: 'active', format: { codec: 'vp8' }, source: 'camera' },
    },
  });
  return { room, key };
}

beforeAll(async () => {
  const built = testApp();
  adapters = built.adapters;
  server = await serveNode(built.app, '127.0.0.1', 0);
  superOwt = owtRestApi(SUPER.id, SUPER.key, `${server.url}/`);
  // RESTAPI.md §5.10: services at /services, with the super service's MAuth header.
  const created = await owtCall(superOwt, 'POST', '/services', { name: 'owt-sample' });
  expect(created.status).toBe(201);
  service = { id: created.body._id, key: created.body.key };
  owt = owtRestApi(service.id, service.key, server.url);
});

afterAll(async () => {
  await server?.close();
});

describe("OWT's REST API through OWT's server SDK", () => {
  it('MAuth exactly as the SDK builds it is accepted, once', async () => {
    const header = owt.mauthHeader();
    expect(header).toMatch(
      /^MAuth realm=http:\/\/marte3\.dit\.upm\.es,mauth_signature_method=HMAC_SHA256,mauth_serviceid=[\w-]+,mauth_cnonce=[0-9a-f]{16},mauth_timestamp=\d+,mauth_signature=[A-Za-z0-9+/]+=*$/,
    );
    const once = await fetch(`${server.url}/v1/rooms`, { headers: { authorization: header } });
    expect(once.status).toBe(200);
    const replay = await fetch(`${server.url}/v1/rooms`, { headers: { authorization: header } });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({ error: { code: 1101, message: 'credentials already used' } });
  });

  it('services: /services and /services/{id} with _id (super service), trailing slashes too', async () => {
    const list = await owtCall(superOwt, 'GET', '/services/');
    expect(list.status).toBe(200);
    expect(list.body.map((s: { _id: string }) => s._id)).toContain(service.id);
    const one = await owtCall(superOwt, 'GET', `/services/${service.id}`);
    expect(one.body).toMatchObject({ _id: service.id, id: service.id, name: 'owt-sample' });
    const other = await owtCall(superOwt, 'POST', '/services', { name: 'short-lived' });
    expect((await owtCall(superOwt, 'DELETE', `/services/${other.body._id}/`)).status).toBe(204);
    const gone = await owtCall(superOwt, 'GET', `/services/${other.body._id}`);
    expect([gone.status, gone.body.error.code]).toEqual([404, 1002]);
    // A service is not the super service.
    expect((await owtCall(owt, 'GET', '/services')).status).toBe(403);
  });

  it("rooms: the sample app's createRoom(name, {}) → OWT's room object with _id and OWT's defaults", async () => {
    const created = await owt.createRoom('sampleRoom', {});
    expect(created.ok).toBe(true);
    const room = created.body;
    expect(room._id).toMatch(/^\w+$/);
    expect(room).toMatchObject({ id: room._id, name: 'sampleRoom', participantLimit: -1, inputLimit: -1 });
    // OWT's default view, but mixed in H.264 (constrained baseline) where OWT chose VP8: far
    // cheaper to encode here, and a room read and written back keeps it.
    expect(room.views).toEqual([
      { ...owtDefaultView, video: { ...owtDefaultView.video, format: { codec: 'h264', profile: 'CB' } } },
    ]);
    expect(room.roles.map((r: { role: string }) => r.role)).toEqual([
      'presenter',
      'viewer',
      'audio_only_presenter',
      'video_only_viewer',
      'sip',
    ]);
    expect(room.transcoding.video.parameters.resolution).toBe(true);
    // The sample finds its room by name in getRooms({page: 1, per_page: 100}) and keeps its _id.
    const rooms = await owt.getRooms({ page: 1, per_page: 100 });
    expect(rooms.body.find((r: { name: string }) => r.name === 'sampleRoom')._id).toBe(room._id);
    const got = await owt.getRoom(room._id);
    expect(got.body).toEqual(room);
  });

  it('rooms: the full room object of RESTAPI.md, as POST options, as a PUT body, and read back', async () => {
    const { name, ...options } = fullOwtRoom;
    const created = await owt.createRoom(name, options);
    expect(created.ok, created.text).toBe(true);
    expect(created.body).toMatchObject(fullOwtRoom);

    // PUT takes the room object and merges like OWT: the fields given replace, the others stay.
    const put = await owt.updateRoom(created.body._id, {
      participantLimit: 8,
      roles: [fullOwtRoom.roles[0]],
    });
    expect(put.ok, put.text).toBe(true);
    expect(put.body).toMatchObject({ ...fullOwtRoom, participantLimit: 8, roles: [fullOwtRoom.roles[0]] });

    // OWT's management console writes back the whole room it read (with _id, id, version…).
    const back = await owt.updateRoom(created.body._id, { ...put.body, name: 'renamed' });
    expect(back.ok, back.text).toBe(true);
    expect(back.body).toMatchObject({
      ...fullOwtRoom,
      name: 'renamed',
      participantLimit: 8,
      roles: [fullOwtRoom.roles[0]],
    });
    expect(back.body.version).toBe(put.body.version + 1);

    // views: [] (no mixing) is what a room without the MCU can honestly have.
    expect((await owt.updateRoom(created.body._id, { views: [] })).body.views).toEqual([]);
  });

  it("rooms: views are mixed: custom layout regions in OWT's shape are stored, bad ones are a 400", async () => {
    const room = (await owt.createRoom('layouts')).body;
    const withRegions = (area: object) => ({
      views: [
        {
          ...owtDefaultView,
          video: {
            ...owtDefaultView.video,
            layout: {
              fitPolicy: 'crop',
              templates: { base: 'void', custom: [{ region: [{ id: '1', shape: 'rectangle', area }] }] },
            },
          },
        },
      ],
    });
    const good = await owt.updateRoom(
      room._id,
      withRegions({ left: '0', top: 0.25, width: '1/2', height: '1' }),
    );
    expect(good.status, good.text).toBe(200);
    expect(good.body.views[0].video.layout.templates.custom[0].region[0].area).toEqual({
      left: '0',
      top: 0.25,
      width: '1/2',
      height: '1',
    });
    // A view of H.264, four inputs, lecture: what the mixer does.
    const lecture = await owt.updateRoom(room._id, {
      views: [
        {
          label: 'stage',
          video: { format: { codec: 'h264' }, maxInput: 4, layout: { templates: { base: 'lecture' } } },
        },
      ],
    });
    expect(lecture.status, lecture.text).toBe(200);
    expect(lecture.body.views[0]).toMatchObject({ label: 'stage', video: { maxInput: 4 } });
    // Two views of one label would be one mixed stream: a 400.
    const twice = await owt.updateRoom(room._id, { views: [{ label: 'a' }, { label: 'a' }] });
    expect(twice.status).toBe(400);
    const bad = await owt.updateRoom(
      room._id,
      withRegions({ left: '3/2', top: 0, width: 'half', height: 1 }),
    );
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error.issues.map((i: { path: string }) => i.path)).toEqual(
      expect.arrayContaining([
        'views.0.video.layout.templates.custom.0.region.0.area.left',
        'views.0.video.layout.templates.custom.0.region.0.area.width',
      ]),
    );
  });

  it('rooms: the flat room object on POST too; both forms at once is a 400; a different _id is a 400', async () => {
    const flat = await owtCall(owt, 'POST', '/v1/rooms/', { name: 'flat', participantLimit: 3, views: [] });
    expect(flat.status).toBe(201);
    expect(flat.body).toMatchObject({ name: 'flat', participantLimit: 3, views: [] });
    const both = await owtCall(owt, 'POST', '/v1/rooms', {
      name: 'x',
      participantLimit: 3,
      options: { views: [] },
    });
    expect([both.status, both.body.error.code]).toEqual([400, 1301]);
    const moved = await owt.updateRoom(flat.body._id, { ...flat.body, _id: 'elsewhere', id: 'elsewhere' });
    expect(moved.status).toBe(400);
    // If-Match (Tessera's) still guards an OWT-shaped PUT.
    const stale = await fetch(`${server.url}/v1/rooms/${flat.body._id}`, {
      method: 'PUT',
      headers: { authorization: owt.mauthHeader(), 'content-type': 'application/json', 'if-match': '"7"' },
      body: JSON.stringify({ participantLimit: 4 }),
    });
    expect(stale.status).toBe(409);
  });

  it('rooms: DELETE, then 404 with 1003', async () => {
    const created = await owt.createRoom('doomed');
    const deleted = await owt.deleteRoom(created.body._id);
    expect(deleted.ok).toBe(true);
    const gone = await owt.getRoom(created.body._id);
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.text)).toMatchObject({ error: { code: 1003 } });
  });

  it('tokens: createToken hands on a bare token string (text, 200); JSON stays for who asks', async () => {
    const created = await owt.createRoom('with-tokens');
    const token = await owt.createToken(created.body._id, 'user-id@company.com', 'presenter');
    expect(token.status).toBe(200);
    expect(token.headers['content-type']).toMatch(/^text\/plain/);
    expect(token.text.split('.')).toHaveLength(3);
    // Tessera's JSON answer: for bearer callers, and for MAuth callers that ask for JSON.
    const asJson = await fetch(`${server.url}/v1.1/rooms/${created.body._id}/tokens/`, {
      method: 'POST',
      headers: {
        authorization: owt.mauthHeader(),
        accept: 'application/json',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ user: 'ana', role: 'presenter' }),
    });
    expect(asJson.status).toBe(201);
    expect(Object.keys(await asJson.json()).sort()).toEqual(['expiresAt', 'id', 'token']);
    const byBearer = await fetch(`${server.url}/v1/rooms/${created.body._id}/tokens`, {
      method: 'POST',
      headers: { authorization: await bearer(service.id, service.key), 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'ana', role: 'presenter' }),
    });
    expect(byBearer.status).toBe(201);
    expect((await byBearer.json()).token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // A role the room does not define is refused.
    expect((await owt.createToken(created.body._id, 'ana', 'admin')).ok).toBe(false);
  });

  it('participants: list, get, both PermissionUpdate forms, drop', async () => {
    const { room } = await liveRoom();
    const list = await owt.getParticipants(room);
    expect(list.body).toEqual([expect.objectContaining({ id: 'p1', user: 'ana', role: 'presenter' })]);
    expect((await owt.getParticipant(room, 'p1')).body.permission.publish).toEqual({
      audio: true,
      video: true,
    });
    const byObject = await owt.updateParticipant(room, 'p1', [
      { op: 'replace', path: '/permission/subscribe', value: { audio: true, video: false } },
    ]);
    expect(byObject.body.permission.subscribe).toEqual({ audio: true, video: false });
    const byFlag = await owt.updateParticipant(room, 'p1', [
      { op: 'replace', path: '/permission/publish/video', value: false },
    ]);
    expect(byFlag.body.permission.publish).toEqual({ audio: true, video: false });
    expect((await owt.dropParticipant(room, 'p1')).ok).toBe(true);
    const missing = await owt.getParticipant(room, 'p1');
    expect([missing.status, JSON.parse(missing.text).error.code]).toEqual([404, 1005]);
  });

  it('streams: list and get at /v1 (SDK) and /v1.1 (RESTAPI.md), every PATCH op, delete', async () => {
    const { room, key } = await liveRoom();
    expect((await owt.getStreams(room)).body.map((s: { id: string }) => s.id)).toEqual(['s1']);
    const v11 = await owtCall(owt, 'GET', `/v1.1/rooms/${room}/streams/s1`);
    expect(v11.body).toMatchObject({ id: 's1', type: 'forward', info: { owner: 'p1', inViews: [] } });

    // StatusUpdate: pause and play.
    const paused = await owt.updateStream(room, 's1', [
      { op: 'replace', path: '/media/video/status', value: 'inactive' },
    ]);
    expect(paused.body.media.video.status).toBe('inactive');
    const played = await owt.updateStream(room, 's1', [
      { op: 'replace', path: '/media/video/status', value: 'active' },
    ]);
    expect(played.body.media.video.status).toBe('active');
    // MixUpdate: into and out of the room's view.
    const mixed = await owt.updateStream(room, 's1', [{ op: 'add', path: '/info/inViews', value: 'common' }]);
    expect(mixed.body.info.inViews).toEqual(['common']);
    const unmixed = await owt.updateStream(room, 's1', [
      { op: 'remove', path: '/info/inViews', value: 'common' },
    ]);
    expect(unmixed.body.info.inViews).toEqual([]);
    // A layout places streams mixed into its view: s1 again.
    await owt.updateStream(room, 's1', [{ op: 'add', path: '/info/inViews', value: 'common' }]);

    // LayoutUpdate and RegionUpdate, on a mixed stream (OWT's regions: {id, shape, area}).
    const region = (id: string, left: string) => ({
      id,
      shape: 'rectangle',
      area: { left, top: '0', width: '1/2', height: '1' },
    });
    const mix: Stream = {
      id: `${room}-common`,
      roomId: key,
      type: 'mixed',
      media: { video: { status: 'active', format: { codec: 'vp8' } } },
      info: { type: 'mixed', label: 'common', inViews: [] },
      version: 1,
    };
    await adapters.streams.put(mix);
    const layout = await owt.updateStream(room, mix.id, [
      {
        op: 'replace',
        path: '/info/layout',
        value: [{ stream: 's1', region: region('1', '0') }, { region: region('2', '1/2') }],
      },
    ]);
    expect(layout.ok, layout.text).toBe(true);
    expect(layout.body.info.layout).toEqual([
      { stream: 's1', region: region('1', '0') },
      { region: region('2', '1/2') },
    ]);
    const regionUpdate = await owt.updateStream(room, mix.id, [
      { op: 'replace', path: '/info/layout/1/stream', value: 's1' },
    ]);
    expect(regionUpdate.ok, regionUpdate.text).toBe(true);
    expect(regionUpdate.body.info.layout[1]).toEqual({ stream: 's1', region: region('2', '1/2') });
    // A region the layout does not have, or a layout op on a forward stream, is a 400.
    const noRegion = await owt.updateStream(room, mix.id, [
      { op: 'replace', path: '/info/layout/7/stream', value: 's1' },
    ]);
    expect(noRegion.status).toBe(400);
    const onForward = await owt.updateStream(room, 's1', [
      { op: 'replace', path: '/info/layout/0/stream', value: 's1' },
    ]);
    expect(onForward.status).toBe(400);

    expect((await owt.deleteStream(room, 's1')).ok).toBe(true);
    const gone = await owt.getStream(room, 's1');
    expect([gone.status, JSON.parse(gone.text).error.code]).toEqual([404, 1004]);
  });
});

describe('what nothing implements yet is a 501 naming the option, and nothing is stored', () => {
  it.each([
    [
      'views',
      { views: [{ ...owtDefaultView, video: { ...owtDefaultView.video, format: { codec: 'h265' } } }] },
    ],
    ['views', { views: [{ ...owtDefaultView, audio: { format: { codec: 'aac' }, vad: true } }] }],
    ['views', { views: [{ ...owtDefaultView, audio: { format: { codec: 'opus', sampleRate: 16000 } } }] }],
    [
      'views',
      {
        views: [
          {
            ...owtDefaultView,
            video: { ...owtDefaultView.video, parameters: { resolution: { width: 3840, height: 2160 } } },
          },
        ],
      },
    ],
    ['sip', { sip: { sipServer: 'sip.example.com', username: 'u', password: 'p' } }],
    ['mediaIn', { mediaIn: { ...fullOwtRoom.mediaIn, video: [{ codec: 'vp8' }] } }],
    ['inputLimit', { inputLimit: 4 }],
    ['selectActiveAudio', { selectActiveAudio: true }],
    ['notifying', { notifying: { participantActivities: false, streamChange: true } }],
  ])('%s', async (option, options) => {
    const before = (await owt.getRooms({ per_page: 100 })).body.length;
    const created = await owt.createRoom('refused', options);
    expect(created.status).toBe(501);
    const { error } = JSON.parse(created.text);
    expect(error.code).toBe(1202);
    expect(error.message.startsWith(`${option}: `)).toBe(true);
    expect((await owt.getRooms({ per_page: 100 })).body).toHaveLength(before);
    // The same through PUT, on a room that exists; the room is unchanged.
    const room = (await owt.createRoom('kept')).body;
    const put = await owt.updateRoom(room._id, options);
    expect([put.status, JSON.parse(put.text).error.code]).toEqual([501, 1202]);
    expect((await owt.getRoom(room._id)).body.version).toBe(room.version);
  });

  it("OWT's streaming-in body is understood, sub-resources with no implementation answer 501; recordings are OWT's list", async () => {
    const room = (await owt.createRoom('plain')).body;
    // OWT's SDK body: a loopback source is refused (no STREAMING_ALLOW_PRIVATE_URLS here)…
    const loopback = await owt.startStreamingIn(room._id, 'rtsp://127.0.0.1/cam');
    expect([loopback.status, JSON.parse(loopback.text).error.code]).toEqual([400, 1301]);
    // …a public one passes validation, and no media node has the room here (a cluster fault).
    const noNode = await owt.startStreamingIn(room._id, 'rtsp://cameras.example.com/cam');
    expect([noNode.status, JSON.parse(noNode.text).error.code]).toEqual([503, 1201]);
    const sip = await owt.send('GET', `rooms/${room._id}/sipcalls/`);
    expect(sip.status).toBe(501);
    expect(JSON.parse(sip.text).error).toMatchObject({
      code: 1202,
      message: expect.stringMatching(/^sipcalls: /),
    });
    const recordings = await owt.getRecordings(room._id);
    expect(recordings.status).toBe(200);
    expect(JSON.parse(recordings.text)).toEqual([]);
  });
});
