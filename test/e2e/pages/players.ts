// HLS and DASH players as a viewer's page runs them (hls.js, dash.js), driven by the e2e tests
// through window.players: what a viewer of a streaming-out sees.
import * as dashjs from 'dashjs';
import Hls from 'hls.js';

const video = document.createElement('video');
video.muted = true;
video.autoplay = true;
video.playsInline = true;
document.body.append(video);

declare global {
  interface Window {
    players: {
      hls(url: string): void;
      dash(url: string): void;
      /** Frames decoded so far, the play position and the picture's size. */
      state(): { frames: number; currentTime: number; width: number; height: number };
    };
  }
}

window.players = {
  hls(url) {
    const hls = new Hls({ lowLatencyMode: false });
    hls.loadSource(url);
    hls.attachMedia(video);
    hls.on(Hls.Events.MANIFEST_PARSED, () => void video.play().catch(() => {}));
  },
  dash(url) {
    const player = dashjs.MediaPlayer().create();
    // Three 1 s segments behind the live edge, as a viewer's player is set for short segments: at
    // the edge itself dash.js waits for each segment's upload and stalled now and then.
    player.updateSettings({ streaming: { delay: { liveDelay: 3 } } });
    player.initialize(video, url, true);
  },
  state: () => ({
    frames: video.getVideoPlaybackQuality().totalVideoFrames,
    currentTime: video.currentTime,
    width: video.videoWidth,
    height: video.videoHeight,
  }),
};
