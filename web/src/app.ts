import type { MediaSource, ParticipantInfo } from '@convene/protocol';
import { type ConveneClient as Client, ConveneClient, type RemoteTrack } from '@convene/sdk';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const meetingId = location.pathname.match(/^\/m\/([A-Za-z0-9]+)/)?.[1];
const params = new URLSearchParams(location.search);

declare global {
  interface Window {
    convene?: Client;
  }
}

let client: Client | undefined;
const localTracks = new Map<MediaSource, MediaStreamTrack>();

async function showLobby(): Promise<void> {
  if (!meetingId) {
    $('lobby-title').textContent = 'Open a meeting link (/m/<id>) to join. Meetings are created through the API.';
    $('join-form').hidden = true;
    return;
  }
  try {
    const res = await fetch(`/v1/meetings/${meetingId}`);
    const meeting = (await res.json()) as { title?: string; requiresPassword?: boolean; endedAt?: number | null; detail?: string };
    if (!res.ok) throw new Error(meeting.detail ?? 'meeting not found');
    $('lobby-title').textContent = meeting.endedAt ? `${meeting.title} has ended` : (meeting.title ?? '');
    $('password-row').hidden = !meeting.requiresPassword || params.has('hostKey');
  } catch (error) {
    $('lobby-error').textContent = (error as Error).message;
  }
  const name = params.get('name');
  if (name) {
    $<HTMLInputElement>('name').value = name;
    if (params.has('autojoin')) run(join());
  }
}

async function join(): Promise<void> {
  $('lobby-error').textContent = '';
  $<HTMLButtonElement>('join').disabled = true;
  try {
    client = await ConveneClient.join({
      baseUrl: location.origin,
      meetingId: meetingId!,
      name: $<HTMLInputElement>('name').value.trim(),
      password: $<HTMLInputElement>('password').value || undefined,
      hostKey: params.get('hostKey') ?? undefined,
    });
  } catch (error) {
    $('lobby-error').textContent = (error as Error).message;
    $<HTMLButtonElement>('join').disabled = false;
    return;
  }
  window.convene = client;
  $('lobby').hidden = true;
  $('call').hidden = false;
  $('meeting-title').textContent = client.meeting?.title ?? '';
  wire(client);
  renderAll(client);
  if (!params.has('nomedia')) {
    await toggleSource('mic').catch(reportError);
    await toggleSource('camera').catch(reportError);
  }
}

function wire(c: Client): void {
  c.on('participantJoined', () => renderPeople(c));
  c.on('participantUpdated', () => renderPeople(c));
  c.on('participantLeft', ({ participantId }) => {
    for (const el of document.querySelectorAll(`[data-participant="${participantId}"]`)) el.remove();
    renderPeople(c);
  });
  c.on('track', (remote) => attachRemote(c, remote));
  c.on('trackEnded', (remote) => detachRemote(remote));
  c.on('producerUpdated', () => renderPeople(c));
  c.on('activeSpeaker', (id) => {
    for (const tile of document.querySelectorAll('.tile')) {
      tile.classList.toggle('speaking', (tile as HTMLElement).dataset.participant === id && (tile as HTMLElement).dataset.source === 'camera');
    }
  });
  c.on('chatMessage', (message) => appendChat(message.name, message.text));
  c.on('presentation', () => renderStage(c));
  c.on('fileUpdated', (file, { deleted }) => {
    if (file.uploadedBy !== c.participantId || deleted) return;
    if (file.status === 'converting') setStatus(`Converting ${file.name}: ${Math.round(file.progress * 100)}%`);
    else if (file.status === 'failed') setStatus(`${file.name} could not be converted: ${file.error ?? 'unknown error'}`);
    else if ((file.status === 'ready' || file.status === 'partial') && pendingDeck === file.id) {
      pendingDeck = undefined;
      setStatus(file.missingPages.length ? `${file.name}: pages ${file.missingPages.join(', ')} could not be converted` : '');
      run(c.present(file.id).then(() => renderStage(c)));
    }
  });
  c.on('moderation', (m) => {
    if (m.action === 'mute') setStatus('A host muted you');
  });
  c.on('reconnecting', () => setStatus('Reconnecting…'));
  c.on('reconnected', () => setStatus(''));
  c.on('closed', ({ reason }) => {
    setStatus(`Disconnected: ${reason}`);
    for (const track of localTracks.values()) track.stop();
  });
  c.on('error', reportError);
  for (const m of c.chat) appendChat(m.name, m.text);
}

let pendingDeck: string | undefined;

/** The slide stage: the presented page for everyone, page controls for the presenter. */
function renderStage(c: Client): void {
  const p = c.presentation;
  $('stage').hidden = p === null;
  if (!p) return;
  const img = $<HTMLImageElement>('slide');
  const src = c.pageUrl(p.fileId, p.page);
  if (img.getAttribute('src') !== src) img.src = src;
  img.dataset.page = String(p.page);
  $('slide-caption').textContent = `Page ${p.page} of ${p.pageCount}`;
  $('presenter-controls').hidden = p.presenterId !== c.participantId;
}

function renderAll(c: Client): void {
  renderStage(c);
  tileFor(c.participantId, 'camera', `${c.self?.name ?? 'You'} (you)`);
  for (const p of c.participants.values()) tileFor(p.id, 'camera', p.name);
  renderPeople(c);
}

function renderPeople(c: Client): void {
  const list = $('people');
  list.replaceChildren();
  const everyone: ParticipantInfo[] = [...(c.self ? [c.self] : []), ...c.participants.values()];
  for (const p of everyone) {
    const li = document.createElement('li');
    li.textContent = `${p.name}${p.id === c.participantId ? ' (you)' : ''}${p.role === 'host' ? ' · host' : ''}${p.connection === 'reconnecting' ? ' · reconnecting' : ''}`;
    list.append(li);
    if (p.id !== c.participantId) tileFor(p.id, 'camera', p.name);
  }
}

function tileFor(participantId: string, source: MediaSource, label: string): HTMLElement {
  const key = `${participantId}:${source === 'screen' ? 'screen' : 'camera'}`;
  let tile = document.querySelector<HTMLElement>(`.tile[data-key="${key}"]`);
  if (tile) return tile;
  tile = document.createElement('div');
  tile.className = 'tile';
  tile.dataset.key = key;
  tile.dataset.participant = participantId;
  tile.dataset.source = source === 'screen' ? 'screen' : 'camera';
  const avatar = document.createElement('div');
  avatar.className = 'avatar';
  avatar.textContent = label.slice(0, 1).toUpperCase();
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true;
  const caption = document.createElement('div');
  caption.className = 'label';
  caption.textContent = source === 'screen' ? `${label}'s screen` : label;
  tile.append(avatar, video, caption);
  $('tiles').append(tile);
  return tile;
}

function attachRemote(c: Client, remote: RemoteTrack): void {
  const name = c.participants.get(remote.participantId)?.name ?? 'Guest';
  if (remote.kind === 'audio') {
    const audio = document.createElement('audio');
    audio.autoplay = true;
    audio.dataset.participant = remote.participantId;
    audio.dataset.producer = remote.producerId;
    audio.srcObject = new MediaStream([remote.track]);
    document.body.append(audio);
    return;
  }
  const tile = tileFor(remote.participantId, remote.source, name);
  tile.dataset.producer = remote.producerId;
  setVideo(tile, remote.track);
}

/** Shows a track in a tile, or the name's initial when there is none. */
function setVideo(tile: HTMLElement, track: MediaStreamTrack | null): void {
  tile.querySelector('video')!.srcObject = track ? new MediaStream([track]) : null;
  tile.classList.toggle('has-video', track !== null);
}

function detachRemote(remote: RemoteTrack): void {
  document.querySelector(`audio[data-producer="${remote.producerId}"]`)?.remove();
  const tile = document.querySelector<HTMLElement>(`.tile[data-producer="${remote.producerId}"]`);
  if (!tile) return;
  if (tile.dataset.source === 'screen') tile.remove();
  else setVideo(tile, null);
}

async function toggleSource(source: 'mic' | 'camera' | 'screen'): Promise<void> {
  if (!client) return;
  const button = $({ mic: 'toggle-mic', camera: 'toggle-cam', screen: 'toggle-screen' }[source]);
  if (client.isPublishing(source)) {
    if (source === 'mic') {
      const muted = !client.publication('mic')!.paused;
      await client.setMuted('mic', muted);
      button.setAttribute('aria-pressed', String(!muted));
      return;
    }
    await client.unpublish(source);
    localTracks.get(source)?.stop();
    localTracks.delete(source);
    button.setAttribute('aria-pressed', 'false');
    if (source === 'screen') document.querySelector(`.tile[data-key="${client.participantId}:screen"]`)?.remove();
    else setVideo(tileFor(client.participantId, 'camera', ''), null);
    return;
  }
  const stream =
    source === 'screen'
      ? await navigator.mediaDevices.getDisplayMedia({ video: true })
      : await navigator.mediaDevices.getUserMedia(source === 'mic' ? { audio: true } : { video: { width: 1280, height: 720 } });
  const track = stream.getTracks()[0]!;
  localTracks.set(source, track);
  await client.publish(track, source);
  button.setAttribute('aria-pressed', 'true');
  if (source !== 'mic') {
    setVideo(tileFor(client.participantId, source, `${client.self?.name ?? 'You'} (you)`), track);
  }
  if (source === 'screen') track.addEventListener('ended', () => run(toggleSource('screen')));
}

function appendChat(name: string, text: string): void {
  const li = document.createElement('li');
  const who = document.createElement('b');
  who.textContent = `${name}: `;
  li.append(who, document.createTextNode(text));
  $('chat-log').append(li);
  li.scrollIntoView({ block: 'end' });
}

function setStatus(text: string): void {
  $('status').textContent = text;
}

function reportError(error: unknown): void {
  console.error(error);
  setStatus((error as Error).message);
}

/** Starts work from an event handler; a failure is shown, never left unhandled. */
function run(work: Promise<unknown> | undefined): void {
  work?.catch(reportError);
}

$('join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  run(join());
});
$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('chat-input');
  const text = input.value.trim();
  if (!text || !client) return;
  client
    .sendChat(text)
    .then(() => {
      input.value = '';
    })
    .catch(reportError);
});
$('toggle-mic').addEventListener('click', () => run(toggleSource('mic')));
$('toggle-cam').addEventListener('click', () => run(toggleSource('camera')));
$('toggle-screen').addEventListener('click', () => run(toggleSource('screen')));
$('deck').addEventListener('change', () => {
  const input = $<HTMLInputElement>('deck');
  const file = input.files?.[0];
  input.value = '';
  if (!file || !client) return;
  setStatus(`Uploading ${file.name}…`);
  client
    .uploadFile(file, file.name)
    .then((info) => {
      pendingDeck = info.id;
      setStatus(`Converting ${info.name}…`);
    })
    .catch(reportError);
});
const turn = (delta: number) => {
  const p = client?.presentation;
  if (!client || !p) return;
  const page = Math.min(p.pageCount, Math.max(1, p.page + delta));
  if (page !== p.page) run(client.turnPage(page).then(() => renderStage(client!)));
};
$('slide-prev').addEventListener('click', () => turn(-1));
$('slide-next').addEventListener('click', () => turn(1));
$('slide-stop').addEventListener('click', () => run(client?.stopPresenting().then(() => renderStage(client!))));
document.addEventListener('keydown', (event) => {
  if (client?.presentation?.presenterId !== client?.participantId || (event.target as HTMLElement).tagName === 'INPUT') return;
  if (event.key === 'ArrowRight' || event.key === 'PageDown') turn(1);
  if (event.key === 'ArrowLeft' || event.key === 'PageUp') turn(-1);
});
$('leave').addEventListener('click', () => {
  run(
    client?.leave().then(() => {
      setStatus('You left the meeting');
    }),
  );
});

run(showLobby());
