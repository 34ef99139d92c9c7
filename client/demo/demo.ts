// The demo page: join a room with camera and mic, see everyone else, chat.
import { type Participant, TesseraClient } from '../TesseraClient.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const grid = $<HTMLDivElement>('grid');
const status = (text: string) => {
  $('status').textContent = text;
};
let client: TesseraClient | undefined;
const names = new Map<string, string>();

function tile(key: string, label: string): HTMLVideoElement {
  let figure = document.getElementById(`tile-${key}`) as HTMLElement | null;
  if (!figure) {
    figure = document.createElement('figure');
    figure.id = `tile-${key}`;
    figure.innerHTML = '<video autoplay playsinline></video><figcaption></figcaption>';
    grid.append(figure);
  }
  figure.querySelector('figcaption')!.textContent = label;
  return figure.querySelector('video')!;
}

function renderParticipants(): void {
  const list = $('participants');
  list.replaceChildren(
    ...[client!.participant, ...client!.participants.values()].map((p: Participant) => {
      const li = document.createElement('li');
      li.textContent = p.id === client!.participant.id ? `${p.user} (you)` : p.user;
      return li;
    }),
  );
}

function addMessage(from: string, text: string): void {
  const li = document.createElement('li');
  li.innerHTML = '<b></b> ';
  li.querySelector('b')!.textContent = `${from}:`;
  li.append(text);
  $('messages').append(li);
  $('messages').scrollTop = $('messages').scrollHeight;
}

async function join(room: string, user: string): Promise<void> {
  status('joining…');
  const issued = await fetch('/demo/join', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ room, user }),
  }).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`join refused (${r.status})`))));
  client = await TesseraClient.join({ url: location.origin, token: issued.token });
  const c = client;
  names.set(c.participant.id, c.participant.user);
  for (const p of c.participants.values()) names.set(p.id, p.user);

  const media = await navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { width: 640, height: 480 },
  });
  const self = tile('self', `${user} (you)`);
  self.muted = true;
  self.srcObject = media;
  // Camera and microphone as one stream (one entry in the REST API's stream list).
  await c.publish(media, { simulcast: true });

  c.on('track', ({ owner, kind, track, streamId }) => {
    const video = tile(owner, names.get(owner) ?? owner);
    const stream = (video.srcObject as MediaStream | null) ?? new MediaStream();
    stream.addTrack(track);
    video.srcObject = stream;
    if (kind === 'audio') video.muted = false;
    track.addEventListener('ended', () => stream.removeTrack(track));
    video.dataset[kind] = streamId;
  });
  c.on('participantjoined', (p) => {
    names.set(p.id, p.user);
    renderParticipants();
  });
  c.on('participantleft', (p) => {
    document.getElementById(`tile-${p.id}`)?.remove();
    renderParticipants();
  });
  c.on('activespeaker', ({ participantId }) => {
    for (const f of grid.querySelectorAll('figure'))
      f.classList.toggle('speaking', f.id === `tile-${participantId}`);
  });
  c.on('text', ({ from, message }) => addMessage(names.get(from) ?? from, message));
  c.on('dropped', ({ reason }) => status(`disconnected: ${reason}`));
  c.on('closed', () => {
    for (const track of media.getTracks()) track.stop();
    status('not connected');
    $<HTMLButtonElement>('joinButton').disabled = false;
    $<HTMLButtonElement>('leave').disabled = true;
  });
  renderParticipants();
  for (const el of document.querySelectorAll<HTMLInputElement | HTMLButtonElement>(
    '#chat input, #chat button',
  ))
    el.disabled = false;
  $<HTMLButtonElement>('leave').disabled = false;
  status(`in room ${room}`);
}

$('join').addEventListener('submit', (e) => {
  e.preventDefault();
  $<HTMLButtonElement>('joinButton').disabled = true;
  join($<HTMLInputElement>('room').value, $<HTMLInputElement>('name').value).catch((error) => {
    status(`could not join: ${error.message}`);
    $<HTMLButtonElement>('joinButton').disabled = false;
  });
});
$('leave').addEventListener('click', () => void client?.leave());
$('chat').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('message');
  if (!client || !input.value) return;
  void client.sendText(input.value);
  addMessage('you', input.value);
  input.value = '';
});
