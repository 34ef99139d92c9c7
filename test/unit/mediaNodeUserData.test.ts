import { describe, expect, it } from 'vitest';
import { MEDIA_NODE_COMMAND, mediaNodeUserData } from '../../infra/mediaNodeUserData.ts';

describe('media node user data', () => {
  const script = mediaNodeUserData({ appDir: '/srv/tessera', envFile: '/etc/tessera/node.env' });

  it('installs, then runs the same command the cluster tests start nodes with, configured by its environment file only', () => {
    expect(script.startsWith('#!/bin/bash\nset -euo pipefail\n')).toBe(true);
    expect(script).toContain('bash scripts/install.sh');
    expect(script).toContain(`ExecStart=/usr/bin/env ${MEDIA_NODE_COMMAND.join(' ')}`);
    expect(script).toContain('EnvironmentFile=/etc/tessera/node.env');
    expect(script).toContain('WorkingDirectory=/srv/tessera');
  });

  it('announces the instance public address, and drains on stop', () => {
    expect(script).toContain('RTC_ANNOUNCED_ADDRESS=$PUBLIC_IP');
    expect(script).toContain('KillSignal=SIGTERM');
    expect(script).not.toMatch(/SECRET|KEY=/); // secrets live in the environment file, not in user data
  });
});
