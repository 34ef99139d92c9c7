// Writes media-node-user-data.sh.tftpl: the deployed node's user data (infra/mediaNodeUserData.ts)
// as a Terraform template, so CDK and Terraform start nodes the same way. `npm run infra:terraform-template`;
// a test fails when the committed file is out of date.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deployedNodeUserData } from '../mediaNodeUserData.ts';

export const TEMPLATE_FILE = fileURLToPath(new URL('media-node-user-data.sh.tftpl', import.meta.url));

/** The template's variables, as media_nodes.tf passes them to templatefile(). */
export const TEMPLATE_VARIABLES = [
  'release_url',
  'region',
  'redis_url',
  'queue_prefix',
  'management_url',
  'rtc_port',
  'drain_timeout_seconds',
  'group_name',
  'launch_hook',
  'terminate_hook',
  'turn_secret_arn',
  'recordings_bucket',
] as const;

export function terraformUserDataTemplate(): string {
  const v = (name: (typeof TEMPLATE_VARIABLES)[number]) => `@@${name}@@`;
  const script = deployedNodeUserData({
    releaseUrl: v('release_url'),
    region: v('region'),
    redisUrl: v('redis_url'),
    queuePrefix: v('queue_prefix'),
    managementUrl: v('management_url'),
    rtcPort: v('rtc_port'),
    drainTimeoutSeconds: v('drain_timeout_seconds'),
    turnSecretArn: v('turn_secret_arn'),
    recordingsBucket: v('recordings_bucket'),
    lifecycle: {
      groupName: v('group_name'),
      launchHook: v('launch_hook'),
      terminateHook: v('terminate_hook'),
    },
  });
  // Terraform templates interpolate ${…} and %{…}: the shell's own are escaped as $${…} and %%{…}.
  return script
    .replaceAll('${', () => '$${')
    .replaceAll('%{', () => '%%{')
    .replace(/@@(\w+)@@/g, (_, name: string) => `\${${name}}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(TEMPLATE_FILE, terraformUserDataTemplate());
  console.log(`wrote ${TEMPLATE_FILE}`);
}
