import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MEDIA_NODE_COMMAND, mediaNodeUserData } from '../../infra/mediaNodeUserData.ts';

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
});
