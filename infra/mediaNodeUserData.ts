/**
 * How a media node starts on a machine: the command, and the EC2 user data around it. The
 * local-cluster tests start media nodes with this same command, so what they prove (the node
 * starts from the environment alone and reports itself in Redis) holds for the deployment.
 */
export const MEDIA_NODE_COMMAND = ['node', '--import', 'tsx', 'media-node/entry/node.ts'] as const;

export interface UserDataOptions {
  /** Where the release is unpacked on the instance. */
  appDir?: string;
  /** Environment for the node (REDIS_URL, SQS_QUEUE_PREFIX, WS_MANAGEMENT_ENDPOINT, RTC_*…), one file. */
  envFile?: string;
}

/** The instance's user data: install what the node needs, then run it under systemd from its environment file. */
export function mediaNodeUserData(o: UserDataOptions = {}): string {
  const appDir = o.appDir ?? '/opt/tessera';
  const envFile = o.envFile ?? '/etc/tessera/media-node.env';
  return `#!/bin/bash
set -euo pipefail
cd ${appDir}
bash scripts/install.sh
# The instance's public address is what clients are given in ICE candidates.
TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
PUBLIC_IP=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/public-ipv4)
grep -q '^RTC_ANNOUNCED_ADDRESS=' ${envFile} || echo "RTC_ANNOUNCED_ADDRESS=$PUBLIC_IP" >> ${envFile}
grep -q '^NODE_ID=' ${envFile} || echo "NODE_ID=$(hostname -s)" >> ${envFile}
cat > /etc/systemd/system/tessera-media-node.service <<UNIT
[Unit]
Description=Tessera media node
After=network-online.target
[Service]
WorkingDirectory=${appDir}
EnvironmentFile=${envFile}
ExecStart=/usr/bin/env ${MEDIA_NODE_COMMAND.join(' ')}
# SIGTERM drains the node (no new rooms; rooms move at DRAIN_TIMEOUT_SECONDS).
KillSignal=SIGTERM
TimeoutStopSec=900
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now tessera-media-node
`;
}
