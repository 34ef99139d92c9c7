import { ValidationError } from '../../shared/errors.ts';
import { isLinkLocal, isPrivateHost } from '../../shared/net/addresses.ts';

/**
 * A streaming URL as a media node may be pointed at it: absolute, one of `schemes` (`rtmp:`…),
 * naming a host, never link-local (the cloud metadata endpoints live there; no streaming server
 * does), not loopback or private unless `allowPrivate`, no whitespace (ffmpeg's option syntax
 * must not ride in). Returned as given (its credentials or stream key are the caller's).
 */
export function checkStreamingUrl(raw: string, schemes: readonly string[], allowPrivate: boolean): string {
  const invalid = (message: string) => new ValidationError(message, [{ path: 'url', message }]);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(`url must be an absolute ${schemes.map((s) => s.slice(0, -1)).join(' or ')} URL`);
  }
  if (!schemes.includes(url.protocol))
    throw invalid(`url must use ${schemes.map((s) => s.slice(0, -1)).join(' or ')}`);
  if (!url.hostname) throw invalid('url must name a host');
  if (isLinkLocal(url.hostname)) throw invalid('url must not point at a link-local address');
  if (!allowPrivate && isPrivateHost(url.hostname))
    throw invalid('url must not point at a loopback or private address');
  if (/[\s\0]/.test(raw)) throw invalid('url must not contain whitespace');
  return raw;
}
