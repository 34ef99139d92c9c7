import { RTMP_INGEST_PORT, TURN } from './deployment.ts';

/**
 * How a media node starts on a machine: the command, and the EC2 user data around it. The
 * local-cluster tests start media nodes with this same command, so what they prove (the node
 * starts from the environment alone and reports itself in Redis) holds for the deployment.
 * Both infra/cdk and infra/terraform use this script (Terraform through a generated template).
 */
export const MEDIA_NODE_COMMAND = ['node', '--import', 'tsx', 'media-node/entry/node.ts'] as const;

/** The Auto Scaling group's lifecycle hooks the node completes itself. */
export interface LifecycleHooks {
  groupName: string;
  region: string;
  /** Held until the node reports ready (the worker build takes minutes on a fresh instance). */
  launchHook: string;
  /** Held while the node drains after a scale-in. */
  terminateHook: string;
}

export interface UserDataOptions {
  /** Where the release is unpacked on the instance. */
  appDir?: string;
  /** Environment for the node (REDIS_URL, SQS_QUEUE_PREFIX, RECORDINGS_BUCKET, WS_MANAGEMENT_ENDPOINT, RTC_*…), one file. */
  envFile?: string;
  /** Shell lines that put the release into `appDir` (the deployment's S3 object). */
  fetchRelease?: string;
  /** Written into `envFile` before the node starts; never secrets (only references to them). */
  environment?: Record<string, string>;
  lifecycle?: LifecycleHooks;
  /** Runs coturn beside the node with the shared secret read from Secrets Manager at boot. */
  turn?: { secretArn: string; region: string };
}

const IMDS = 'http://169.254.169.254/latest';
const imdsToken = `curl -fsSX PUT ${IMDS}/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300'`;
// -f: an error page must never become an address.
const metadata = (path: string) =>
  `curl -fsS -H "X-aws-ec2-metadata-token: $(${imdsToken})" ${IMDS}/meta-data/${path}`;

/** The instance's user data: install what the node needs, then run it under systemd from its environment file. */
export function mediaNodeUserData(o: UserDataOptions = {}): string {
  const appDir = o.appDir ?? '/opt/tessera';
  const envFile = o.envFile ?? '/etc/tessera/media-node.env';
  const lines = Object.entries(o.environment ?? {}).map(([k, v]) => `${k}=${v}\n`);
  const environment = lines.length ? `cat > ${envFile} <<'ENV'\n${lines.join('')}ENV\n` : '';
  const completeHook = (hook: string, l: LifecycleHooks) =>
    `aws autoscaling complete-lifecycle-action --region ${l.region} --auto-scaling-group-name ${l.groupName} --lifecycle-hook-name ${hook} --instance-id "$(${metadata('instance-id')})" --lifecycle-action-result CONTINUE`;
  return `#!/bin/bash
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive HOME=\${HOME:-/root}
# Node.js 20 (Debian bookworm ships 18) and the AWS CLI.
if ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null; then
  apt-get update && apt-get install -y ca-certificates curl gnupg
  install -d /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor -o /etc/apt/keyrings/nodesource.gpg
  echo 'deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_20.x nodistro main' > /etc/apt/sources.list.d/nodesource.list
  apt-get update && apt-get install -y nodejs
fi
# Debian's EC2 images carry the AWS CLI but not unzip.
tools=()
command -v aws >/dev/null || tools+=(awscli)
command -v unzip >/dev/null || tools+=(unzip)
[ \${#tools[@]} -eq 0 ] || (apt-get update && apt-get install -y "\${tools[@]}")
mkdir -p ${appDir} "$(dirname ${envFile})"
${o.fetchRelease ?? ''}
${environment}touch ${envFile} && chmod 600 ${envFile}
cd ${appDir}
TESSERA_PROFILE=media-node bash scripts/install.sh
# The instance's public address is what clients are given in ICE candidates; other media
# nodes reach its pipe transports at the private one (their security group admits peers by group).
PUBLIC_IP=$(${metadata('public-ipv4')})
PRIVATE_IP=$(${metadata('local-ipv4')})
grep -q '^RTC_ANNOUNCED_ADDRESS=' ${envFile} || echo "RTC_ANNOUNCED_ADDRESS=$PUBLIC_IP" >> ${envFile}
grep -q '^RTC_PIPE_ANNOUNCED_ADDRESS=' ${envFile} || echo "RTC_PIPE_ANNOUNCED_ADDRESS=$PRIVATE_IP" >> ${envFile}
grep -q '^NODE_ID=' ${envFile} || echo "NODE_ID=$(hostname -s)" >> ${envFile}
${o.turn ? turnLines(o.turn, envFile) : ''}cat > /etc/systemd/system/tessera-media-node.service <<UNIT
[Unit]
Description=Tessera media node
Wants=network-online.target
After=network-online.target
# Keep restarting (Redis or SQS may be unreachable for a while); never give up.
StartLimitIntervalSec=0
[Service]
WorkingDirectory=${appDir}
EnvironmentFile=${envFile}
ExecStart=/usr/bin/env ${MEDIA_NODE_COMMAND.join(' ')}
# SIGTERM drains the node (no new rooms; rooms move at DRAIN_TIMEOUT_SECONDS).
KillSignal=SIGTERM
TimeoutStopSec=900
Restart=on-failure
RestartSec=5
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now tessera-media-node
${o.lifecycle ? lifecycleLines(o.lifecycle, completeHook) : ''}`;
}

/**
 * coturn beside the node, configured like the TurnServer class (media-node/turn/TurnServer.ts):
 * REST-API credentials from the shared secret, which the node reads by reference (TURN_SECRET_ARN)
 * and coturn from its root-only config. It relays to public addresses only (never the VPC, the
 * instance metadata service or loopback). Clients get turn: URLs over UDP and TCP; turns: needs a
 * certificate for a name (browsers refuse the self-signed one made here): set TURN_URLS for it.
 */
function turnLines(t: { secretArn: string; region: string }, envFile: string): string {
  const denied = [
    '0.0.0.0-0.255.255.255',
    '10.0.0.0-10.255.255.255',
    '100.64.0.0-100.127.255.255',
    '127.0.0.0-127.255.255.255',
    '169.254.0.0-169.254.255.255',
    '172.16.0.0-172.31.255.255',
    '192.168.0.0-192.168.255.255',
  ];
  const urls = [
    `turn:$PUBLIC_IP:${TURN.port}?transport=udp`,
    `turn:$PUBLIC_IP:${TURN.port}?transport=tcp`,
  ].join(',');
  return `# TURN (coturn) beside the node: clients whose UDP is blocked relay over TCP through it.
grep -q '^TURN_SECRET_ARN=' ${envFile} || echo "TURN_SECRET_ARN=${t.secretArn}" >> ${envFile}
grep -q '^TURN_URLS=' ${envFile} || echo "TURN_URLS=${urls}" >> ${envFile}
TURN_SECRET=$(aws secretsmanager get-secret-value --region ${t.region} --secret-id ${t.secretArn} --query SecretString --output text)
install -d -m 750 -o root -g turnserver /etc/coturn
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj "/CN=$PUBLIC_IP" -keyout /etc/coturn/key.pem -out /etc/coturn/cert.pem 2>/dev/null
install -m 640 -o root -g turnserver /dev/null /etc/turnserver.conf
cat > /etc/turnserver.conf <<TURNCONF
listening-ip=$PRIVATE_IP
relay-ip=$PRIVATE_IP
external-ip=$PUBLIC_IP/$PRIVATE_IP
listening-port=${TURN.port}
tls-listening-port=${TURN.tlsPort}
min-port=${TURN.relayPorts.from}
max-port=${TURN.relayPorts.to}
use-auth-secret
static-auth-secret=$TURN_SECRET
realm=tessera
fingerprint
no-cli
no-dtls
no-tlsv1
no-tlsv1_1
no-multicast-peers
${denied.map((range) => `denied-peer-ip=${range}`).join('\n')}
cert=/etc/coturn/cert.pem
pkey=/etc/coturn/key.pem
syslog
simple-log
TURNCONF
unset TURN_SECRET
chgrp turnserver /etc/coturn/key.pem && chmod 640 /etc/coturn/key.pem
systemctl enable coturn
systemctl restart coturn
`;
}

function lifecycleLines(l: LifecycleHooks, complete: (hook: string, l: LifecycleHooks) => string): string {
  return `# In service only once the node reports: until then the group holds the instance.
timeout 1200 bash -c 'until journalctl -u tessera-media-node -b --no-pager | grep -q "media node .* ready"; do sleep 2; done'
${complete(l.launchHook, l)} || echo "launch hook not pending: in service already"
# On scale-in the group holds the instance while the node drains, then lets it go.
cat > /usr/local/bin/tessera-lifecycle <<'WATCH'
#!/bin/bash
while sleep 5; do
  state=$(${metadata('autoscaling/target-lifecycle-state')})
  if [ "$state" = "Terminated" ]; then
    systemctl stop tessera-media-node
    ${complete(l.terminateHook, l)}
    exit 0
  fi
done
WATCH
chmod 755 /usr/local/bin/tessera-lifecycle
cat > /etc/systemd/system/tessera-lifecycle.service <<UNIT
[Unit]
Description=Drains the Tessera media node when the Auto Scaling group terminates the instance
After=tessera-media-node.service
[Service]
ExecStart=/usr/local/bin/tessera-lifecycle
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now tessera-lifecycle
`;
}

/** What a deployment knows when it writes a node's user data (CDK tokens or Terraform variables). */
export interface DeployedNode {
  /** `s3://bucket/key` of the release archive. */
  releaseUrl: string;
  region: string;
  redisUrl: string;
  queuePrefix: string;
  /** The WebSocket API's @connections endpoint. */
  managementUrl: string;
  rtcPort: string;
  drainTimeoutSeconds: string;
  lifecycle: Omit<LifecycleHooks, 'region'>;
  /** The Secrets Manager secret coturn and the node share (TURN_SECRET). */
  turnSecretArn: string;
  /**
   * RECORDINGS_BUCKET: the S3 bucket recordings are uploaded to (RECORDINGS_DIR is then only the
   * spool). Both deployments pass it; without it recordings stay on the instance's disk.
   */
  recordingsBucket?: string;
}

/** The user data of a media node in the AWS deployment, the same from CDK and Terraform. */
export function deployedNodeUserData(d: DeployedNode): string {
  return mediaNodeUserData({
    fetchRelease: [
      `aws s3 cp --region ${d.region} ${d.releaseUrl} /tmp/tessera-release.zip`,
      'unzip -oq /tmp/tessera-release.zip -d /opt/tessera',
    ].join('\n'),
    environment: {
      REDIS_URL: d.redisUrl,
      SQS_QUEUE_PREFIX: d.queuePrefix,
      ...(d.recordingsBucket ? { RECORDINGS_BUCKET: d.recordingsBucket } : {}),
      WS_MANAGEMENT_ENDPOINT: d.managementUrl,
      AWS_REGION: d.region,
      NODE_REGION: d.region,
      RTC_LISTEN_IP: '0.0.0.0',
      RTC_PORT: d.rtcPort,
      // Encoders push RTMP here; the URL they are given names RTC_ANNOUNCED_ADDRESS (set at boot).
      RTMP_INGEST_PORT: String(RTMP_INGEST_PORT),
      RTMP_INGEST_HOST: '0.0.0.0',
      DRAIN_TIMEOUT_SECONDS: d.drainTimeoutSeconds,
      LOG_LEVEL: 'info',
    },
    lifecycle: { ...d.lifecycle, region: d.region },
    turn: { secretArn: d.turnSecretArn, region: d.region },
  });
}
