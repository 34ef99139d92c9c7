// The pre-join screen: a camera preview, device choice, and the media the meeting will publish.

export interface Choice {
  camera: boolean;
  mic: boolean;
  cameraId?: string;
  micId?: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export class PreJoin {
  readonly #preview = $<HTMLElement>('preview');
  readonly #video = this.#preview.querySelector('video')!;
  readonly #camera = $<HTMLSelectElement>('camera');
  readonly #mic = $<HTMLSelectElement>('mic');
  readonly #useCamera = $<HTMLInputElement>('useCamera');
  readonly #useMic = $<HTMLInputElement>('useMic');
  /** What the preview shows now: handed to the meeting on join. */
  #stream: MediaStream | undefined;
  /** The choice #stream was made for; a newer request supersedes an older one. */
  #request = 0;
  onError: (error: unknown) => void = () => {};

  constructor() {
    for (const el of [this.#camera, this.#mic, this.#useCamera, this.#useMic])
      el.addEventListener('change', () => void this.refresh().catch((e) => this.onError(e)));
    navigator.mediaDevices?.addEventListener?.('devicechange', () => void this.#listDevices());
  }

  choice(): Choice {
    return {
      camera: this.#useCamera.checked,
      mic: this.#useMic.checked,
      ...(this.#camera.value ? { cameraId: this.#camera.value } : {}),
      ...(this.#mic.value ? { micId: this.#mic.value } : {}),
    };
  }

  /** Whether a preview runs (media the meeting can take). */
  get previewing(): boolean {
    return this.#stream !== undefined;
  }

  /** Starts (or restarts) the preview for the current choice; throws what getUserMedia threw. */
  async refresh(): Promise<void> {
    const request = ++this.#request;
    this.#stop();
    const choice = this.choice();
    if (!choice.camera && !choice.mic) return;
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: choice.mic ? (choice.micId ? { deviceId: { exact: choice.micId } } : true) : false,
      video: choice.camera
        ? { width: 640, height: 480, ...(choice.cameraId ? { deviceId: { exact: choice.cameraId } } : {}) }
        : false,
    });
    if (request !== this.#request) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.#stream = stream;
    this.#video.srcObject = stream;
    this.#preview.classList.toggle('video-off', !choice.camera);
    this.#preview.querySelector('figcaption')!.textContent = choice.camera ? 'your camera' : 'camera off';
    await this.#listDevices();
  }

  /** The previewed media, now the meeting's (the preview lets go of it); started if it was not. */
  async take(): Promise<MediaStream | undefined> {
    const choice = this.choice();
    const has = (kind: 'audio' | 'video') =>
      this.#stream?.getTracks().some((t) => t.kind === kind && t.readyState === 'live') ?? false;
    if ((choice.camera && !has('video')) || (choice.mic && !has('audio'))) await this.refresh();
    const stream = this.#stream;
    this.#stream = undefined;
    this.#video.srcObject = null;
    return stream;
  }

  /** Lets the camera go (the pre-join screen is hidden, or the choice changed). */
  stop(): void {
    this.#request++;
    this.#stop();
  }

  #stop(): void {
    for (const t of this.#stream?.getTracks() ?? []) t.stop();
    this.#stream = undefined;
    this.#video.srcObject = null;
    this.#preview.classList.add('video-off');
    this.#preview.querySelector('figcaption')!.textContent = 'camera off';
  }

  /** Device names are only shown once access was granted: listed again after each preview. */
  async #listDevices(): Promise<void> {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select: HTMLSelectElement, kind: MediaDeviceKind, current?: string) => {
      const chosen = select.value || current;
      const options = devices
        .filter((d) => d.kind === kind && d.deviceId)
        .map(
          (d, i) =>
            new Option(d.label || `${kind === 'videoinput' ? 'Camera' : 'Microphone'} ${i + 1}`, d.deviceId),
        );
      select.replaceChildren(...options);
      if (chosen && options.some((o) => o.value === chosen)) select.value = chosen;
    };
    const tracks = this.#stream?.getTracks() ?? [];
    fill(this.#camera, 'videoinput', tracks.find((t) => t.kind === 'video')?.getSettings().deviceId);
    fill(this.#mic, 'audioinput', tracks.find((t) => t.kind === 'audio')?.getSettings().deviceId);
  }
}
