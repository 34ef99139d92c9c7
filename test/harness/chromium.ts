import { type Browser, chromium } from 'playwright-core';

/**
 * Flags for Debian's headless Chromium on a closed, loopback-only machine: no background
 * networking (its connections would be refused), fake camera and microphone, loopback ICE
 * candidates (a host may have no other interface), autoplay so remote audio can play.
 */
export const chromiumFlags = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream=fps=30',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  '--allow-loopback-in-peer-connection',
];

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...chromiumFlags, ...extraArgs],
  });
}
