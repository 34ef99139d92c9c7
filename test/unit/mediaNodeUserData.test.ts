import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TURN } from '../../infra/deployment.ts';
import {
  deployedNodeUserData,
  MEDIA_NODE_COMMAND,
  mediaNodeUserData,
} from '../../infra/mediaNodeUserData.ts';

describe('media node user data', () => {
  const script = mediaNodeUserData({ appDir: '/srv/tessera', envFile: '/etc/tessera/node.env' });
  const deployed = mediaNodeUserData({
    fetchRelease: 'aws s3 cp s3://bucket/release.zip /tmp/r.zip',
    environment: { REDIS_URL: 'rediss://redis:6379', SQS_QUEUE_PREFIX: 'prod-' },
    lifecycle: {
      groupName: 'prod-media-nodes',
      region: 'eu-west-1',
      launchHook: 'node-ready',
      terminateHook: 'node-drain',
    },
  });

  it('is a valid bash script', () => {
    for (const s of [script, deployed]) execFileSync('bash', ['-n'], { input: s });
  });

  it('installs, then runs the same command the cluster tests start nodes with, configured by its environment file only', () => {
    expect(script.startsWith('#!/bin/bash\nset -euo pipefail\n')).toBe(true);
    expect(script).toContain('TESSERA_PROFILE=media-node bash scripts/install.sh');
    expect(script).toContain(`ExecStart=/usr/bin/env ${MEDIA_NODE_COMMAND.join(' ')}`);
    expect(script).toContain('EnvironmentFile=/etc/tessera/node.env');
    expect(script).toContain('WorkingDirectory=/srv/tessera');
    expect(script).not.toContain("<<'ENV'"); // without an environment, an existing file is kept
  });

  it('installs the tools it uses and keeps the node restarting', () => {
    expect(deployed).toContain('command -v unzip >/dev/null || tools+=(unzip)');
    expect(deployed).toContain('StartLimitIntervalSec=0');
    expect(deployed).toContain('RestartSec=5');
  });

  it('fetches the release and writes the environment before installing', () => {
    const at = (s: string) => deployed.indexOf(s);
    expect(at('aws s3 cp s3://bucket/release.zip')).toBeGreaterThan(0);
    expect(deployed).toContain(
      "cat > /etc/tessera/media-node.env <<'ENV'\nREDIS_URL=rediss://redis:6379\nSQS_QUEUE_PREFIX=prod-\nENV\n",
    );
    expect(at('aws s3 cp')).toBeLessThan(at('scripts/install.sh'));
    expect(at("<<'ENV'")).toBeLessThan(at('systemctl enable --now tessera-media-node'));
  });

  it('announces the public address to clients and the private one to peer nodes, and drains on stop', () => {
    expect(script).toContain('RTC_ANNOUNCED_ADDRESS=$PUBLIC_IP');
    expect(script).toContain('RTC_PIPE_ANNOUNCED_ADDRESS=$PRIVATE_IP');
    expect(script).toContain('meta-data/local-ipv4');
    expect(script).toMatch(/curl -fsS -H .*meta-data\/public-ipv4/); // an IMDS error never becomes an address
    expect(script).toContain('KillSignal=SIGTERM');
    expect(deployed).not.toMatch(/SECRET|MASTER_KEY|SERVICE_KEY/); // the node needs no secrets
  });

  it('enters service when the node reports ready, and drains before a scale-in lets the instance go', () => {
    const launch = deployed.indexOf('--lifecycle-hook-name node-ready');
    expect(deployed.indexOf('grep -q "media node .* ready"')).toBeLessThan(launch);
    const watcher = deployed.slice(deployed.indexOf("<<'WATCH'"), deployed.indexOf('\nWATCH\n'));
    expect(watcher).toContain('autoscaling/target-lifecycle-state');
    expect(watcher.indexOf('systemctl stop tessera-media-node')).toBeLessThan(
      watcher.indexOf('--lifecycle-hook-name node-drain'),
    );
    expect(watcher).toContain('--auto-scaling-group-name prod-media-nodes');
    expect(script).not.toContain('complete-lifecycle-action');
  });

  it('runs coturn beside a deployed node with the secret read by reference, relaying to public addresses only', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:turn';
    const node = deployedNodeUserData({
      releaseUrl: 's3://b/r.zip',
      region: 'eu-west-1',
      redisUrl: 'rediss://r:6379',
      queuePrefix: 'p-',
      managementUrl: 'https://m',
      rtcPort: '40000',
      drainTimeoutSeconds: '600',
      turnSecretArn: arn,
      lifecycle: { groupName: 'g', launchHook: 'node-ready', terminateHook: 'node-drain' },
    });
    execFileSync('bash', ['-n'], { input: node });
    const at = (s: string) => node.indexOf(s);
    // The node reads the secret itself (TURN_SECRET_ARN); coturn gets it in a root-only file.
    expect(node).toContain(`echo "TURN_SECRET_ARN=${arn}" >> /etc/tessera/media-node.env`);
    expect(node).toContain(`--secret-id ${arn} --query SecretString --output text`);
    expect(node).not.toMatch(/^TURN_SECRET=(?!\$\()/m);
    expect(at('install -m 640 -o root -g turnserver /dev/null /etc/turnserver.conf')).toBeLessThan(
      at('cat > /etc/turnserver.conf'),
    );
    const conf = node.slice(at('<<TURNCONF'), at('\nTURNCONF\n'));
    expect(conf).toContain('static-auth-secret=$TURN_SECRET');
    expect(conf).toContain('use-auth-secret');
    expect(conf).toContain(`listening-port=${TURN.port}`);
    expect(conf).toContain(`tls-listening-port=${TURN.tlsPort}`);
    expect(conf).toContain(`min-port=${TURN.relayPorts.from}\nmax-port=${TURN.relayPorts.to}`);
    expect(conf).toContain('external-ip=$PUBLIC_IP/$PRIVATE_IP');
    expect(conf).toContain('no-cli');
    // Never a relay into the VPC, the instance metadata service or loopback.
    for (const range of [
      '10.0.0.0-10.255.255.255',
      '169.254.0.0-169.254.255.255',
      '127.0.0.0-127.255.255.255',
    ])
      expect(conf).toContain(`denied-peer-ip=${range}`);
    expect(conf).not.toContain('allow-loopback-peers');
    // Clients get its UDP and TCP URLs at the public address, once the address is known.
    expect(node).toContain(
      `TURN_URLS=turn:$PUBLIC_IP:${TURN.port}?transport=udp,turn:$PUBLIC_IP:${TURN.port}?transport=tcp`,
    );
    expect(at('PUBLIC_IP=$(')).toBeLessThan(at('TURN_URLS='));
    expect(at('systemctl restart coturn')).toBeGreaterThan(at('\nTURNCONF\n'));
    expect(at('systemctl enable coturn')).toBeGreaterThan(0);
    // Relay ports never collide with the pipe transports' range.
    expect(TURN.relayPorts.from).toBeGreaterThan(59_999);
  });
});
