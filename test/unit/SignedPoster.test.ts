import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { SignedPoster } from '../../shared/adapters/apigw/SignedPoster.ts';

const bytes = (d: string | ArrayBuffer | ArrayBufferView) =>
  typeof d === 'string'
    ? d
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);

/** The hash the AWS SDK's signer is given (node's crypto, as the SDK's hash-node is). */
class Sha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.#hash.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.#hash.digest());
  }
}

describe('SignedPoster: SigV4 as AWS computes it', () => {
  it.each([
    [
      'API Gateway with a stage and session credentials',
      'https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
      'tok',
    ],
    ['the local emulator on a port, long-term keys', 'http://127.0.0.1:4510', undefined],
  ])('%s: the same Authorization as the AWS SDK signer', async (_name, endpoint, sessionToken) => {
    const identity = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      ...(sessionToken ? { sessionToken } : {}),
    };
    const region = 'eu-west-1';
    const date = new Date('2026-12-03T07:15:00Z');
    const body = Buffer.from(JSON.stringify({ event: 'participant', data: { action: 'join' } }));
    // A connection id as API Gateway makes them: base64, '=' included (encoded in the path).
    const path = `/@connections/${encodeURIComponent('L0SM9cOFvHcCIhw=')}`;
    const poster = new SignedPoster(endpoint);
    const ours = poster.sign(path, body, identity, region, date);
    poster.close();

    const url = new URL(endpoint);
    const sdk = await new SignatureV4({
      service: 'execute-api',
      region,
      credentials: identity,
      sha256: Sha256,
      applyChecksum: false,
    }).sign(
      {
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: `${url.pathname.replace(/\/$/, '')}${path}`,
        headers: {
          host: url.host,
          'content-type': 'application/json',
          'content-length': String(body.length),
        },
        query: {},
        body,
      },
      { signingDate: date },
    );
    const header = (h: Record<string, unknown>, name: string) =>
      Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];
    expect(header(ours.headers as Record<string, unknown>, 'authorization')).toBe(
      header(sdk.headers, 'authorization'),
    );
    expect(header(ours.headers as Record<string, unknown>, 'x-amz-security-token')).toBe(sessionToken);
  });

  it('SQS (JSON protocol, as SignedSqs sends it): the same Authorization as the AWS SDK signer', async () => {
    const identity = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    };
    const date = new Date('2026-12-03T07:15:00Z');
    const body = Buffer.from(
      JSON.stringify({ QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q', MessageBody: '{}' }),
    );
    const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' };
    const poster = new SignedPoster('https://sqs.eu-west-1.amazonaws.com', 'sqs');
    const ours = poster.sign('/', body, identity, 'eu-west-1', date, headers);
    poster.close();
    const sdk = await new SignatureV4({
      service: 'sqs',
      region: 'eu-west-1',
      credentials: identity,
      sha256: Sha256,
      applyChecksum: false,
    }).sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: 'sqs.eu-west-1.amazonaws.com',
        path: '/',
        headers: { host: 'sqs.eu-west-1.amazonaws.com', ...headers, 'content-length': String(body.length) },
        query: {},
        body,
      },
      { signingDate: date },
    );
    const authorization = (h: Record<string, unknown>) =>
      Object.entries(h).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
    expect(authorization(ours.headers as Record<string, unknown>)).toBe(authorization(sdk.headers));
    expect(String(authorization(sdk.headers))).toContain('x-amz-target');
  });
});
