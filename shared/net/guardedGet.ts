import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isLinkLocal, isPrivateHost } from './addresses.ts';

/** A URL the policy refuses (a scheme, an address): retrying will not help. */
export class UrlRefusedError extends Error {
  override readonly name = 'UrlRefusedError';
}

export interface GuardedGetOptions {
  /** Loopback and private addresses allowed (a LAN server, tests); link-local never is. */
  allowPrivate: boolean;
  /** The largest body read; a larger one is an error (a playlist is kilobytes, a segment megabytes). */
  maxBytes: number;
  timeoutMs: number;
  /** Name resolution (tests give their own); every address it returns is checked. */
  lookup?: LookupFunction;
  headers?: Record<string, string>;
}

export interface GuardedResponse {
  body: Buffer;
  /** Where the body came from after redirects: relative URIs in it resolve against this. */
  url: string;
}

const MAX_REDIRECTS = 5;

/**
 * An HTTP(S) GET of a URL a client named, made safe to run inside the network: http and https
 * only, every redirect hop checked again, and the check made on the addresses the connection
 * actually uses (a custom `lookup`), so a public name resolving to the metadata endpoint or to
 * 10.0.0.1 — or changing its answer between a check and the connect — is refused. Bodies are
 * capped and requests time out. Errors never carry the URL (it may hold credentials).
 */
export async function guardedGet(raw: string, options: GuardedGetOptions): Promise<GuardedResponse> {
  let url = new URL(raw);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    checkUrl(url, options.allowPrivate);
    const answer = await getOnce(url, options);
    if ('redirect' in answer) {
      url = new URL(answer.redirect, url);
      continue;
    }
    return { body: answer.body, url: url.toString() };
  }
  throw new Error(`more than ${MAX_REDIRECTS} redirects`);
}

function checkUrl(url: URL, allowPrivate: boolean): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UrlRefusedError(`a ${url.protocol.slice(0, -1)} URL is not fetched (http and https only)`);
  // Literal addresses are connected to without a lookup: judged here.
  checkAddress(
    url.hostname.replace(/^\[|\]$/g, ''),
    allowPrivate,
    isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0,
  );
}

function checkAddress(host: string, allowPrivate: boolean, nameOnly = false): void {
  if (isLinkLocal(host)) throw new UrlRefusedError('a link-local address is never fetched');
  if (!allowPrivate && isPrivateHost(host))
    throw new UrlRefusedError(`a loopback or private ${nameOnly ? 'host' : 'address'} is not fetched`);
}

/** `lookup`, refusing a name any of whose addresses the policy refuses. */
function checkedLookup(
  allowPrivate: boolean,
  lookup: LookupFunction = dnsLookup as LookupFunction,
): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const all = (
        Array.isArray(addresses) ? addresses : [{ address: addresses, family: 4 }]
      ) as LookupAddress[];
      try {
        if (all.length === 0) throw new Error('the name has no address');
        for (const { address } of all) checkAddress(address, allowPrivate);
      } catch (refused) {
        return callback(refused as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, all);
      else callback(null, all[0]!.address, all[0]!.family);
    });
  };
}

function getOnce(url: URL, options: GuardedGetOptions): Promise<{ body: Buffer } | { redirect: string }> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        lookup: checkedLookup(options.allowPrivate, options.lookup),
        headers: { 'user-agent': 'tessera', ...options.headers },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          resolve({ redirect: res.headers.location });
          return;
        }
        if (status !== 200 && status !== 206) {
          res.resume();
          reject(new Error(`HTTP ${status}`));
          return;
        }
        const tooLarge = () => {
          res.destroy();
          reject(new Error(`the body is larger than ${options.maxBytes} bytes`));
        };
        if (Number(res.headers['content-length'] ?? 0) > options.maxBytes) return tooLarge();
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) tooLarge();
          else chunks.push(chunk);
        });
        res.on('end', () => {
          if (size <= options.maxBytes) resolve({ body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    // The whole exchange, not only each idle gap: a server dribbling bytes is cut off too.
    const deadline = setTimeout(
      () => req.destroy(new Error(`no whole answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    req.on('close', () => clearTimeout(deadline));
    req.on('error', (error) => reject(error instanceof UrlRefusedError ? error : new Error(error.message)));
    req.end();
  });
}
