// The meeting's tiles: one per participant's camera and microphone, one per shared screen.
import type { QualityLevel } from './quality.ts';

export type Layout = 'grid' | 'speaker' | 'mixed';

/** A tile's figure, with its video element playing a MediaStream the tile owns. */
interface Tile {
  figure: HTMLElement;
  video: HTMLVideoElement;
  stream: MediaStream;
}

export class Stage {
  readonly #root: HTMLElement;
  readonly #grid: HTMLElement;
  readonly #mixed: HTMLVideoElement;
  readonly #tiles = new Map<string, Tile>();
  #layout: Layout = 'grid';
  #featured: string | undefined;

  constructor(root: HTMLElement) {
    this.#root = root;
    this.#grid = root.querySelector('#grid')!;
    this.#mixed = root.querySelector('#mixed video')!;
  }

  get layout(): Layout {
    return this.#layout;
  }

  setLayout(layout: Layout): void {
    this.#layout = layout;
    this.#root.dataset.layout = layout;
    this.#root.querySelector<HTMLElement>('#mixed')!.hidden = layout !== 'mixed';
    // The mixed stream carries everyone's voice: the tiles' own audio would play it twice.
    for (const [key, tile] of this.#tiles) tile.video.muted = key === 'self' || layout === 'mixed';
    if (layout !== 'mixed') this.#mixed.srcObject = null;
    this.#feature();
  }

  /** The tile for a key (made on first use), captioned with a name. */
  tile(key: string, label: string, kind: 'person' | 'screen' = 'person'): Tile {
    let tile = this.#tiles.get(key);
    if (!tile) {
      const figure = document.createElement('figure');
      figure.className = `tile ${kind}`;
      figure.dataset.key = key;
      figure.innerHTML =
        '<video autoplay playsinline></video><div class="placeholder" aria-hidden="true"></div>' +
        '<figcaption><span class="name"></span><span class="muted-indicator" hidden>muted</span>' +
        '<span class="quality" hidden></span></figcaption>';
      const video = figure.querySelector('video')!;
      const stream = new MediaStream();
      video.srcObject = stream;
      video.muted = key === 'self' || this.#layout === 'mixed';
      this.#grid.append(figure);
      tile = { figure, video, stream };
      this.#tiles.set(key, tile);
      this.#feature();
    }
    tile.figure.querySelector('.name')!.textContent = label;
    tile.figure.querySelector('.placeholder')!.textContent = label.slice(0, 1).toUpperCase();
    tile.video.setAttribute('aria-label', `${label}'s video`);
    return tile;
  }

  has(key: string): boolean {
    return this.#tiles.has(key);
  }

  /** Plays a track in a tile, in place of the one of its kind it had (a rejoin brings new ones). */
  attach(key: string, track: MediaStreamTrack): void {
    const tile = this.#tiles.get(key);
    if (!tile) return;
    for (const old of tile.stream.getTracks()) if (old.kind === track.kind) tile.stream.removeTrack(old);
    tile.stream.addTrack(track);
    // A stream whose track set changed is reloaded, or the element may keep the old frame.
    tile.video.srcObject = tile.stream;
  }

  /** The room's mixed view: its tracks in the mixed element. */
  attachMixed(track: MediaStreamTrack): void {
    const stream = (this.#mixed.srcObject as MediaStream | null) ?? new MediaStream();
    for (const old of stream.getTracks()) if (old.kind === track.kind) stream.removeTrack(old);
    stream.addTrack(track);
    this.#mixed.srcObject = stream;
  }

  remove(key: string): void {
    const tile = this.#tiles.get(key);
    if (!tile) return;
    tile.video.srcObject = null;
    tile.figure.remove();
    this.#tiles.delete(key);
    if (this.#featured === key) this.#featured = undefined;
    this.#feature();
  }

  /** Empties the stage (after leaving): no tile, no frozen frame. */
  clear(): void {
    for (const key of [...this.#tiles.keys()]) this.remove(key);
    this.#mixed.srcObject = null;
    this.setLayout('grid');
  }

  setMuted(key: string, muted: boolean): void {
    const indicator = this.#tiles.get(key)?.figure.querySelector<HTMLElement>('.muted-indicator');
    if (indicator) indicator.hidden = !muted;
  }

  setVideoOff(key: string, off: boolean): void {
    this.#tiles.get(key)?.figure.classList.toggle('video-off', off);
  }

  setQuality(key: string, level: QualityLevel): void {
    const badge = this.#tiles.get(key)?.figure.querySelector<HTMLElement>('.quality');
    if (!badge) return;
    badge.hidden = false;
    badge.dataset.level = level;
    badge.textContent = level;
    badge.setAttribute('aria-label', `connection ${level}`);
  }

  /** Outlines who speaks now; in the speaker layout they take the large tile. */
  setSpeaking(key: string): void {
    for (const [k, tile] of this.#tiles) tile.figure.classList.toggle('speaking', k === key);
    if (this.#tiles.has(key)) this.#featured = key;
    this.#feature();
  }

  #feature(): void {
    // Without a speaker yet, the first remote tile (else our own).
    const featured =
      this.#featured ?? [...this.#tiles.keys()].find((k) => k !== 'self') ?? [...this.#tiles.keys()][0];
    for (const [k, tile] of this.#tiles)
      tile.figure.classList.toggle('featured', this.#layout === 'speaker' && k === featured);
  }
}
