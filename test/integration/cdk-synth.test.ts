import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_HANDLER } from '../../infra/bundleLambdas.ts';
import {
  deploymentNames,
  PERMISSIONS,
  PIPE_PORTS,
  RTMP_INGEST_PORT,
  TURN,
  WEBHOOK_MAX_RECEIVES,
} from '../../infra/deployment.ts';
import { MEDIA_NODE_COMMAND } from '../../infra/mediaNodeUserData.ts';
import { tableDefinition } from '../../shared/adapters/dynamodb/table.ts';
import { EnvSchema } from '../../shared/config/schema.ts';
import {
  type CfnResource,
  dataActions,
  flatten,
  type Intrinsic,
  policyStatements,
} from '../harness/cloudformation.ts';
import { GRANTS } from '../harness/grants.ts';

const root = join(import.meta.dirname, '..', '..');
const names = deploymentNames('tessera');
/** The CLI fills in the default region (us-east-1 without AWS configuration); an agnostic stack keeps the token. */
const REGION = '(<AWS::Region>|[a-z]{2}(-[a-z]+)+-\\d)';

/**
 * `cdk synth` by the CDK CLI, offline (no AWS credentials, no lookups), then assertions on
 * the CloudFormation it wrote.
 */
describe('CDK app (infra/cdk)', () => {
  let out: string;
  let template: { Resources: Record<string, CfnResource>; Outputs: Record<string, { Value: Intrinsic }> };
  const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  const one = (type: string) => {
    const found = ofType(type);
    expect(found, type).toHaveLength(1);
    return found[0]!;
  };
  const queueNamed = (name: string) => {
    const found = ofType('AWS::SQS::Queue').find(([, q]) => q.Properties.QueueName === name);
    expect(found, name).toBeDefined();
    return found!;
  };
  const functionByEntry = (entry: string) => {
    const found = ofType('AWS::Lambda::Function').find(([id]) =>
      id.toLowerCase().includes(`${entry}function`),
    );
    expect(found, entry).toBeDefined();
    return found!;
  };

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'tessera-cdk-'));
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('CDK_')),
    );
    await promisify(execFile)(
      join(root, 'node_modules', '.bin', 'cdk'),
      [
        'synth',
        '--no-notices',
        '--no-version-reporting',
        '-q',
        '-o',
        out,
        '-c',
        'maxMediaNodes=6',
        '-c',
        'alarmEmail=ops@example.com',
      ],
      {
        cwd: join(root, 'infra', 'cdk'),
        env: { ...env, CI: 'true', AWS_EC2_METADATA_DISABLED: 'true' },
        timeout: 120_000,
      },
    );
    template = JSON.parse(readFileSync(join(out, 'Tessera.template.json'), 'utf8'));
  }, 150_000);

  it('has the DynamoDB table the code defines, with TTL and point-in-time recovery, kept on delete', () => {
    const [, table] = one('AWS::DynamoDB::Table');
    const def = tableDefinition('x');
    expect(table.Properties.KeySchema).toEqual(def.KeySchema);
    expect(new Set(table.Properties.AttributeDefinitions)).toEqual(new Set(def.AttributeDefinitions));
    expect(table.Properties.GlobalSecondaryIndexes).toEqual([
      expect.objectContaining({
        IndexName: 'gsi1',
        KeySchema: def.GlobalSecondaryIndexes![0]!.KeySchema,
        Projection: { ProjectionType: 'ALL' },
      }),
    ]);
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.DeletionPolicy).toBe('Retain');
  });

  it('has a private, encrypted, TLS-only recordings bucket named after the deployment, kept on delete', () => {
    const [bucketId, bucket] = one('AWS::S3::Bucket');
    expect(bucket).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(flatten(bucket.Properties.BucketName)).toMatch(
      new RegExp(`^${names.recordingsBucketPrefix}<Fn::Select>$`),
    );
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
    expect(bucket.Properties.VersioningConfiguration).toBeUndefined();
    const [, bucketPolicy] = one('AWS::S3::BucketPolicy');
    expect(bucketPolicy.Properties.Bucket).toEqual({ Ref: bucketId });
    expect(bucketPolicy.DeletionPolicy).toBe('Retain');
    expect(bucketPolicy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    expect(template.Outputs.RecordingsBucket!.Value).toEqual({ Ref: bucketId });
  });

  it('has the dead-letter queue the nodes redrive to, and every queue is the deployment’s', () => {
    expect(ofType('AWS::SQS::Queue')).toHaveLength(3);
    const [, dlq] = queueNamed(names.deadLetterQueue);
    expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 86_400);
    // Events reach the webhook function from their queue, with partial batch failures; the
    // undeliverable end in their own dead-letter queue.
    const [eventsDlqId] = queueNamed(names.eventsDeadLetterQueue);
    const [eventsId, events] = queueNamed(names.eventsQueue);
    expect(events.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [eventsDlqId, 'Arn'] },
      maxReceiveCount: WEBHOOK_MAX_RECEIVES,
    });
    const [, mapping] = one('AWS::Lambda::EventSourceMapping');
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [eventsId, 'Arn'] },
      FunctionName: { Ref: functionByEntry('webhooks')[0] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    for (const [, fn] of ofType('AWS::Lambda::Function').filter(([id]) => !/metrics/i.test(id))) {
      expect(fn.Properties.Environment.Variables.SQS_QUEUE_PREFIX).toBe(names.queuePrefix);
    }
    // The webhook function also writes streaming-outs' status (live state in Redis).
    const [, webhooks] = ofType('AWS::Lambda::Function').find(
      ([id]) => id === functionByEntry('webhooks')[0],
    )!;
    expect(webhooks.Properties.Environment.Variables.REDIS_URL).toBeDefined();
  });

  it('has an HTTP API and a WebSocket API with $connect, $disconnect and $default on the signaling function', () => {
    const apis = ofType('AWS::ApiGatewayV2::Api').map(([id, r]) => [id, r.Properties.ProtocolType] as const);
    expect(apis.map(([, p]) => p).sort()).toEqual(['HTTP', 'WEBSOCKET']);
    const wsApi = apis.find(([, p]) => p === 'WEBSOCKET')![0];
    const httpApi = apis.find(([, p]) => p === 'HTTP')![0];
    const integrationTarget = (integrationRef: Intrinsic) => {
      const id = flatten(integrationRef).match(/integrations\/<(\w+)>/)![1]!;
      return flatten(template.Resources[id]!.Properties.IntegrationUri);
    };
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    const wsRoutes = routes.filter((r) => r.ApiId.Ref === wsApi);
    expect(wsRoutes.map((r) => r.RouteKey).sort()).toEqual(['$connect', '$default', '$disconnect']);
    const [wsFunctionId] = functionByEntry('websocket');
    for (const r of wsRoutes) expect(integrationTarget(r.Target)).toContain(`<${wsFunctionId}.Arn>`);
    const httpRoutes = routes.filter((r) => r.ApiId.Ref === httpApi);
    expect(httpRoutes.map((r) => r.RouteKey)).toEqual(['$default']);
    expect(integrationTarget(httpRoutes[0]!.Target)).toContain(`<${functionByEntry('http')[0]}.Arn>`);
    const stages = ofType('AWS::ApiGatewayV2::Stage').map(([, s]) => s.Properties);
    expect(stages.find((s) => s.ApiId.Ref === wsApi)).toMatchObject({
      StageName: names.webSocketStage,
      AutoDeploy: true,
    });
    expect(Object.keys(template.Outputs)).toEqual(expect.arrayContaining(['HttpApiUrl', 'WebSocketUrl']));
  });

  it('points every Lambda handler at a bundled file that exports it', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions).toHaveLength(4);
    for (const [id, fn] of functions) {
      expect(fn.Properties.Handler, id).toBe(LAMBDA_HANDLER);
      expect(fn.Properties.Runtime).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
      const assetDir = join(out, fn.Metadata!['aws:asset:path'] as string);
      const [file, exported] = LAMBDA_HANDLER.split('.') as [string, string];
      const code = readFileSync(join(assetDir, `${file}.mjs`), 'utf8');
      expect(code, id).toMatch(new RegExp(`export\\s*\\{[^}]*\\b(\\w+ as )?${exported}\\b[^}]*\\}`));
      expect(code).not.toMatch(/mediasoup-worker/);
      expect(fn.Properties.VpcConfig.SubnetIds.length).toBeGreaterThan(0);
    }
  });

  it('configures the functions with variables the code reads, and secrets only by reference', () => {
    const known = new Set(Object.keys(EnvSchema.shape));
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      const vars = fn.Properties.Environment.Variables as Record<string, Intrinsic>;
      for (const key of Object.keys(vars)) expect(known, `${id}: ${key}`).toContain(key);
      for (const secret of ['TOKEN_SECRET', 'MASTER_KEY', 'SUPER_SERVICE_KEY'])
        expect(vars[secret]).toBeUndefined();
      // The webhook function reads DynamoDB and its queue only.
      if (/webhooks/i.test(id)) continue;
      expect(flatten(vars.REDIS_URL!)).toMatch(
        /^rediss:\/\/<State\w+\.PrimaryEndPoint\.Address>:<State\w+\.PrimaryEndPoint\.Port>$/,
      );
    }
    const vars = functionByEntry('http')[1].Properties.Environment.Variables;
    for (const secret of ['TOKEN_SECRET_ARN', 'MASTER_KEY_ARN', 'SUPER_SERVICE_KEY_ARN']) {
      expect(template.Resources[vars[secret].Ref]!.Type).toBe('AWS::SecretsManager::Secret');
    }
    expect(template.Resources[vars.DYNAMODB_TABLE.Ref]!.Type).toBe('AWS::DynamoDB::Table');
    expect(
      flatten(functionByEntry('websocket')[1].Properties.Environment.Variables.WS_MANAGEMENT_ENDPOINT),
    ).toMatch(
      new RegExp(
        `^https://<\\w*WebSocketApi\\w*>\\.execute-api\\.${REGION}\\.<AWS::URLSuffix>/${names.webSocketStage}$`,
      ),
    );
  });

  it('runs Redis on ElastiCache in the VPC’s private subnets, encrypted, with failover, reachable from functions and nodes only', () => {
    const [, redis] = one('AWS::ElastiCache::ReplicationGroup');
    expect(redis.Properties).toMatchObject({
      Engine: 'redis',
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
      NumCacheClusters: 2,
    });
    const [subnetGroupId, subnetGroup] = one('AWS::ElastiCache::SubnetGroup');
    expect(redis.Properties.CacheSubnetGroupName).toEqual({ Ref: subnetGroupId });
    for (const subnet of subnetGroup.Properties.SubnetIds) {
      expect(subnet.Ref).toMatch(/private/i);
    }
    const redisSg = redis.Properties.SecurityGroupIds[0]['Fn::GetAtt'][0];
    const ingress = ofType('AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => r.Properties)
      .filter((r) => r.GroupId['Fn::GetAtt'][0] === redisSg);
    expect(
      ingress.map((r) => [r.FromPort, r.ToPort, r.SourceSecurityGroupId['Fn::GetAtt'][0]]).sort(),
    ).toEqual([
      [6379, 6379, expect.stringMatching(/Functions/)],
      [6379, 6379, expect.stringMatching(/MediaNodes/)],
    ]);
  });

  it('runs media nodes in an Auto Scaling group from a launch template that installs and starts the node', () => {
    const [, group] = one('AWS::AutoScaling::AutoScalingGroup');
    expect(group.Properties).toMatchObject({
      MinSize: '1',
      MaxSize: '6',
      AutoScalingGroupName: names.mediaNodeGroup,
    });
    for (const subnet of group.Properties.VPCZoneIdentifier) expect(subnet.Ref).toMatch(/public/i);
    const [ltId, lt] = one('AWS::EC2::LaunchTemplate');
    expect(group.Properties.LaunchTemplate.LaunchTemplateId.Ref).toBe(ltId);
    const data = lt.Properties.LaunchTemplateData;
    expect(data.MetadataOptions.HttpTokens).toBe('required');
    expect(data.NetworkInterfaces[0].AssociatePublicIpAddress).toBe(true);
    const userData = flatten(data.UserData);
    expect(userData).toContain(`ExecStart=/usr/bin/env ${MEDIA_NODE_COMMAND.join(' ')}`);
    expect(userData).toContain('TESSERA_PROFILE=media-node bash scripts/install.sh');
    expect(userData).toContain('RTC_ANNOUNCED_ADDRESS=$PUBLIC_IP');
    expect(userData).toMatch(/aws s3 cp .* s3:\/\/.+\/\w+\.zip /);
    const envFile = userData.match(/<<'ENV'\n([\s\S]*?)\nENV\n/)![1]!;
    const env = Object.fromEntries(envFile.split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
    const known = new Set([...Object.keys(EnvSchema.shape), 'AWS_REGION']);
    for (const key of Object.keys(env)) expect(known, key).toContain(key);
    expect(env).toMatchObject({
      SQS_QUEUE_PREFIX: names.queuePrefix,
      RTC_LISTEN_IP: '0.0.0.0',
      RTC_PORT: '40000',
      RTMP_INGEST_PORT: String(RTMP_INGEST_PORT),
      RTMP_INGEST_HOST: '0.0.0.0',
    });
    expect(env.REDIS_URL).toMatch(/^rediss:\/\//);
    expect(env.RECORDINGS_BUCKET).toBe(`<${one('AWS::S3::Bucket')[0]}>`);
    expect(env.WS_MANAGEMENT_ENDPOINT).toMatch(/^https:\/\/<\w*WebSocketApi\w*>\.execute-api/);
    // Secrets by reference only: the TURN secret's ARN, read at boot by the node and its coturn.
    expect(userData).not.toMatch(/MASTER_KEY|SERVICE_KEY|TOKEN_SECRET/);
    expect(userData).toMatch(/TURN_SECRET_ARN=<StateTurnSecret\w+>/);
    expect(userData).toMatch(/--secret-id <StateTurnSecret\w+> --query SecretString/);
    expect(userData).toContain('systemctl restart coturn');
  });

  it('ships the media nodes a release with what their user data runs, and nothing local', () => {
    const [, lt] = one('AWS::EC2::LaunchTemplate');
    const key = flatten(lt.Properties.LaunchTemplateData.UserData).match(/s3:\/\/[^/]+\/(\w+)\.zip/)![1]!;
    const assets = JSON.parse(readFileSync(join(out, 'Tessera.assets.json'), 'utf8')).files as Record<
      string,
      { source: { path: string } }
    >;
    const release = join(out, assets[key]!.source.path);
    for (const file of [
      'package.json',
      'package-lock.json',
      'scripts/install.sh',
      'media-node/entry/node.ts',
      'shared/config/schema.ts',
    ]) {
      expect(existsSync(join(release, file)), file).toBe(true);
    }
    for (const local of ['node_modules', '.git', 'dist', 'test-results', 'infra/cdk/cdk.out']) {
      expect(existsSync(join(release, local)), local).toBe(false);
    }
  });

  it('opens the WebRTC, TURN and RTMP ingest ports to clients and the pipe ports between nodes only', () => {
    const [sgId] = ofType('AWS::EC2::SecurityGroup').find(([id]) => /MediaNodes/.test(id))!;
    const [, sg] = ofType('AWS::EC2::SecurityGroup').find(([id]) => id === sgId)!;
    const rules = sg.Properties.SecurityGroupIngress.map((r: Record<string, unknown>) => [
      r.IpProtocol,
      r.FromPort,
      r.ToPort,
      r.CidrIp,
    ]);
    expect(rules).toEqual(
      expect.arrayContaining([
        ['udp', 40000, 40015, '0.0.0.0/0'],
        ['tcp', 40000, 40015, '0.0.0.0/0'],
        ['udp', TURN.port, TURN.port, '0.0.0.0/0'],
        ['tcp', TURN.port, TURN.port, '0.0.0.0/0'],
        ['tcp', TURN.tlsPort, TURN.tlsPort, '0.0.0.0/0'],
        ['udp', TURN.relayPorts.from, TURN.relayPorts.to, '0.0.0.0/0'],
        ['tcp', RTMP_INGEST_PORT, RTMP_INGEST_PORT, '0.0.0.0/0'],
      ]),
    );
    const pipes = ofType('AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => r.Properties)
      .find((r) => r.GroupId['Fn::GetAtt'][0] === sgId);
    expect(pipes).toMatchObject({ IpProtocol: 'udp', FromPort: PIPE_PORTS.from, ToPort: PIPE_PORTS.to });
    expect(pipes!.SourceSecurityGroupId['Fn::GetAtt'][0]).toBe(sgId);
  });

  it('scales the nodes on their reported load and holds them through launch and drain', () => {
    const [, policy] = one('AWS::AutoScaling::ScalingPolicy');
    expect(policy.Properties.PolicyType).toBe('TargetTrackingScaling');
    const tracking = policy.Properties.TargetTrackingConfiguration;
    expect(tracking.TargetValue).toBe(0.6);
    expect(tracking.CustomizedMetricSpecification).toMatchObject({
      Namespace: 'Tessera',
      MetricName: 'MediaNodeLoad',
      Dimensions: [{ Name: 'Deployment', Value: 'tessera' }],
    });
    // On the group itself, so the very first instances are held too.
    expect(ofType('AWS::AutoScaling::LifecycleHook')).toEqual([]);
    const hooks = one('AWS::AutoScaling::AutoScalingGroup')[1].Properties
      .LifecycleHookSpecificationList as Record<string, unknown>[];
    expect(hooks.map((h) => [h.LifecycleHookName, h.LifecycleTransition, h.DefaultResult]).sort()).toEqual([
      [names.terminateHook, 'autoscaling:EC2_INSTANCE_TERMINATING', 'CONTINUE'],
      [names.launchHook, 'autoscaling:EC2_INSTANCE_LAUNCHING', 'ABANDON'],
    ]);
    const [, rule] = one('AWS::Events::Rule');
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(flatten(rule.Properties.Targets[0].Arn)).toBe(`<${functionByEntry('metrics')[0]}.Arn>`);
  });

  it('alarms on dead letters and missing node heartbeats, to a topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const [topicId] = one('AWS::SNS::Topic');
    const [dlqId] = queueNamed(names.deadLetterQueue);
    for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
        Threshold: 0,
      }),
    );
    const heartbeat = alarms.find((a) =>
      a.Metrics?.some((m: { Expression?: string }) => m.Expression === 'inService - reporting'),
    );
    expect(heartbeat).toBeDefined();
    const metricNames = heartbeat!.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).map(
      (m: { MetricStat: { Metric: { MetricName: string } } }) => m.MetricStat.Metric.MetricName,
    );
    expect(metricNames.sort()).toEqual(['GroupInServiceInstances', 'MediaNodesReporting']);
    expect(heartbeat!.TreatMissingData).toBe('breaching');
    expect(alarms).toContainEqual(
      expect.objectContaining({ MetricName: 'MediaNodesReporting', ComparisonOperator: 'LessThanThreshold' }),
    );
    expect(ofType('AWS::SNS::Subscription')[0]![1].Properties).toMatchObject({
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('grants least privilege: no wildcard actions, data resources named, each part only its own', () => {
    const statements = policyStatements(template.Resources);
    expect(statements.length).toBeGreaterThan(5);
    for (const s of statements) {
      for (const action of s.actions) expect(action, s.policy).not.toContain('*');
      if (dataActions(s.actions).length) {
        for (const resource of s.resources) expect(resource, `${s.policy} ${s.actions}`).not.toBe('*');
      }
    }
    const of = (id: RegExp) => statements.filter((s) => id.test(s.policy));
    const actions = (id: RegExp) =>
      of(id)
        .flatMap((s) => s.actions)
        .sort();
    expect(actions(/HttpFunction/)).toEqual(GRANTS.controlPlane);
    expect(actions(/WebsocketFunction/)).toEqual(GRANTS.signaling);
    expect(of(/MetricsFunction/)).toEqual([]);
    expect(actions(/MediaNodes/)).toEqual(GRANTS.mediaNode);
    expect(actions(/WebhooksFunction/)).toEqual(GRANTS.webhooks);
    // Services' webhooks (GetItem) and the recordings' records (RecordingProjection: Query, Put).
    expect(of(/WebhooksFunction/).filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')))).toEqual([
      expect.objectContaining({
        actions: [...PERMISSIONS.webhookTable],
        resources: [expect.stringMatching(/^<StateTable\w+\.Arn>$/)],
      }),
    ]);
    expect([...PERMISSIONS.webhookTable].sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    // The recordings bucket: its objects and listing it, the media nodes' alone.
    const [bucketId] = one('AWS::S3::Bucket');
    const onRecordings = statements.filter((s) => s.resources.some((r) => r.includes(`<${bucketId}.Arn>`)));
    expect(onRecordings.map(({ actions, resources }) => ({ actions, resources }))).toEqual([
      { actions: [...PERMISSIONS.recordingObjects], resources: [`<${bucketId}.Arn>/*`] },
      { actions: [...PERMISSIONS.recordingBucket], resources: [`<${bucketId}.Arn>`] },
    ]);
    for (const s of onRecordings) expect(s.policy).toMatch(/^MediaNodes/);
    // The TURN secret is the media nodes' alone; the functions read the other three.
    const secretReads = (id: RegExp) =>
      of(id)
        .filter((s) => s.actions.includes('secretsmanager:GetSecretValue'))
        .flatMap((s) => s.resources);
    expect(secretReads(/MediaNodes/)).toEqual([expect.stringMatching(/^<StateTurnSecret\w+>$/)]);
    for (const fn of [/HttpFunction/, /WebsocketFunction/])
      for (const r of secretReads(fn)) expect(r).not.toMatch(/TurnSecret/);
    const sqsResources = statements
      .filter((s) => s.actions.some((a) => a.startsWith('sqs:')))
      .flatMap((s) => s.resources);
    for (const r of sqsResources)
      expect(r).toMatch(
        new RegExp(
          `:sqs:${REGION}:<AWS::AccountId>:(${names.nodeQueues.replace('*', '\\*')}|${names.deadLetterQueue}|${names.eventsQueue})$`,
        ),
      );
    const tableResources = statements
      .filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')))
      .flatMap((s) => s.resources);
    for (const r of tableResources) expect(r).toMatch(/^<StateTable\w+\.Arn>(\/index\/\*)?$/);
    // Managed policies: only Lambda's logging and VPC networking.
    const managed = ofType('AWS::IAM::Role').flatMap(([, r]) =>
      (r.Properties.ManagedPolicyArns ?? []).map(flatten),
    );
    for (const arn of managed)
      expect(arn).toMatch(
        /:iam::aws:policy\/service-role\/AWSLambda(BasicExecutionRole|VPCAccessExecutionRole)$/,
      );
  });
});
