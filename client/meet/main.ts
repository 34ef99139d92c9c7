// Tessera Meet, the meeting app the embedded server serves: the pre-join screen, then a meeting.
import { TesseraClient } from '../TesseraClient.ts';
import { Meeting } from './meeting.ts';
import { describeError, HttpRefusal, roomNameProblem } from './messages.ts';
import { PreJoin } from './prejoin.ts';
import { type Layout, Stage } from './stage.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const stage = new Stage($('stage'));
const prejoin = new PreJoin();
let meeting: Meeting | undefined;
let bannerTimer: ReturnType<typeof setTimeout> | undefined;

function status(text: string): void {
  $('status').textContent = text;
}

function banner(text: string | undefined, kind: 'warn' | 'ok' | 'error' = 'warn'): void {
  const el = $('banner');
  clearTimeout(bannerTimer);
  el.hidden = text === undefined;
  el.textContent = text ?? '';
  el.dataset.kind = kind;
}

function joinError(text: string | undefined): void {
  const el = $('joinError');
  el.hidden = text === undefined;
  el.textContent = text ?? '';
}

/** Back to the pre-join screen; the preview restarts unless it runs (its error, if any, is shown). */
function showPreJoin(): void {
  $('meeting').hidden = true;
  $('prejoin').hidden = false;
  $('roomTitle').textContent = '';
  $<HTMLButtonElement>('joinButton').disabled = false;
  status('not connected');
  if (!prejoin.previewing) void prejoin.refresh().catch((e) => joinError(describeError(e)));
}

/** A join token from the embedded server's demo endpoint (an application's backend elsewhere). */
async function demoToken(room: string, user: string): Promise<string> {
  const res = await fetch('/demo/join', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ room, user }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok)
    throw new HttpRefusal(res.status, body?.error?.code, body?.error?.message ?? `status ${res.status}`);
  return body.token;
}

async function join(room: string, user: string): Promise<void> {
  const problem = roomNameProblem(room) ?? (user.trim() ? undefined : 'Type your name.');
  if (problem) throw new Error(problem);
  status('joining…');
  // Media first: a refused camera stops here, before the room knows of us (no ghost).
  const media = await prejoin.take();
  let client: TesseraClient | undefined;
  try {
    client = await TesseraClient.join({ url: location.origin, token: await demoToken(room, user) });
    const m = new Meeting(client, room, { stage, banner, status });
    m.onEnd = () => {
      if (meeting === m) meeting = undefined;
      showPreJoin();
    };
    meeting = m;
    $('prejoin').hidden = true;
    $('meeting').hidden = false;
    $('roomTitle').textContent = room;
    banner(undefined);
    await m.start(media);
  } catch (error) {
    // Joined but could not publish: out again, so nobody sees a participant who is not there.
    for (const t of media?.getTracks() ?? []) t.stop();
    meeting = undefined;
    await client?.leave().catch(() => {});
    throw error;
  }
}

$('join').addEventListener('submit', (e) => {
  e.preventDefault();
  joinError(undefined);
  $<HTMLButtonElement>('joinButton').disabled = true;
  join($<HTMLInputElement>('room').value.trim(), $<HTMLInputElement>('name').value.trim()).catch((error) => {
    joinError(error instanceof Error && error.constructor === Error ? error.message : describeError(error));
    $('meeting').hidden = true;
    $('prejoin').hidden = false;
    $<HTMLButtonElement>('joinButton').disabled = false;
    status('not connected');
    if (!prejoin.previewing) void prejoin.refresh().catch(() => {});
  });
});

/** A control's action; a failure is said, not thrown away. */
const act = (id: string, event: string, run: (m: Meeting, el: HTMLElement) => Promise<void>) =>
  $(id).addEventListener(event, (e) => {
    e.preventDefault();
    const el = e.currentTarget as HTMLElement;
    if (meeting) run(meeting, el).catch((error) => banner(describeError(error), 'error'));
  });

act('micButton', 'click', (m) => m.toggleMic());
act('cameraButton', 'click', (m) => m.toggleCamera());
act('shareButton', 'click', (m) => m.toggleShare());
act('layout', 'change', (m, el) => m.setLayout((el as HTMLSelectElement).value as Layout));
act('leave', 'click', (m) => m.leave());
act('roomCamera', 'change', (m, el) => m.switchDevice('video', (el as HTMLSelectElement).value));
act('roomMic', 'change', (m, el) => m.switchDevice('audio', (el as HTMLSelectElement).value));
act('chat', 'submit', async (m) => {
  const input = $<HTMLInputElement>('message');
  const text = input.value;
  input.value = '';
  if (text) await m.sendText(text);
});

showPreJoin();
