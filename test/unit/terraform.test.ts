import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleLambdas, LAMBDA_ENTRIES, LAMBDA_HANDLER } from '../../infra/bundleLambdas.ts';
import {
  deploymentNames,
  PERMISSIONS,
  PIPE_PORTS,
  RTMP_INGEST_PORT,
  TURN,
  WEBHOOK_MAX_RECEIVES,
} from '../../infra/deployment.ts';
import { MEDIA_NODE_COMMAND } from '../../infra/mediaNodeUserData.ts';
import {
  TEMPLATE_FILE,
  TEMPLATE_VARIABLES,
  terraformUserDataTemplate,
} from '../../infra/terraform/userDataTemplate.ts';
import { tableDefinition } from '../../shared/adapters/dynamodb/table.ts';
import { GRANTS } from '../harness/grants.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = join(root, 'infra', 'terraform');

/** The IAM action each SDK command needs (HeadObject is allowed by s3:GetObject, ListObjectsV2 by s3:ListBucket). */
const IAM_ACTION: Record<string, string> = {
  PutObjectCommand: 's3:PutObject',
  GetObjectCommand: 's3:GetObject',
  HeadObjectCommand: 's3:GetObject',
  DeleteObjectCommand: 's3:DeleteObject',
  ListObjectsV2Command: 's3:ListBucket',
  GetCommand: 'dynamodb:GetItem',
  PutCommand: 'dynamodb:PutItem',
  QueryCommand: 'dynamodb:Query',
};

/** The IAM actions of every SDK command an adapter's source sends. */
function actionsOfAdapter(file: string): string[] {
  const commands = [...readFileSync(join(root, file), 'utf8').matchAll(/new (\w+Command)\(/g)].map(
    (m) => m[1]!,
  );
  expect(commands.length, file).toBeGreaterThan(0);
  for (const c of commands) expect(IAM_ACTION[c], `${file}: ${c}`).toBeDefined();
  return [...new Set(commands.map((c) => IAM_ACTION[c]!))].sort();
}

// biome-ignore lint/suspicious/noExplicitAny: HCL parsed to free-form JSON.
type Block = Record<string, any>;
interface Module {
  resource: Record<string, Record<string, Block[]>>;
  data: Record<string, Record<string, Block[]>>;
  variable: Record<string, Block[]>;
  output: Record<string, Block[]>;
  locals: Block;
}

/** Every .tf file parsed (HCL → JSON, as Terraform reads it) and merged into one module. */
async function loadModule(): Promise<Module> {
  const module: Module = { resource: {}, data: {}, variable: {}, output: {}, locals: {} };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.tf'))) {
    const parsed = (await parse(file, readFileSync(join(dir, file), 'utf8'))) as Block;
    for (const kind of ['resource', 'data'] as const) {
      for (const [type, blocks] of Object.entries(parsed[kind] ?? {})) {
        module[kind][type] = { ...module[kind][type], ...(blocks as Record<string, Block[]>) };
      }
    }
    Object.assign(module.variable, parsed.variable);
    Object.assign(module.output, parsed.output);
    for (const locals of parsed.locals ?? []) Object.assign(module.locals, locals);
  }
  return module;
}

/** Every string in a parsed value, depth first. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

describe('Terraform module (infra/terraform)', () => {
  let tf: Module;
  const resource = (type: string, name: string): Block => {
    const block = tf.resource[type]?.[name]?.[0];
    expect(block, `${type}.${name}`).toBeDefined();
    return block!;
  };
  /** A policy document's Allow statements (a bucket policy's TLS-only Deny is not a grant). */
  const policy = (name: string) =>
    (tf.data.aws_iam_policy_document![name]![0]!.statement as Block[])
      .filter((s) => (s.effect ?? 'Allow') === 'Allow')
      .map((s) => ({
        actions: s.actions as string[],
        resources: strings(s.resources),
      }));

  beforeAll(async () => {
    tf = await loadModule();
  });

  it('refers only to resources, data sources, variables and locals it declares', () => {
    const expressions = strings(tf).filter((s) => s.includes('${'));
    const missing: string[] = [];
    for (const e of expressions) {
      for (const [, name] of e.matchAll(/(?<![\w.-])var\.(\w+)/g))
        if (!tf.variable[name!]) missing.push(`var.${name}`);
      for (const [, name] of e.matchAll(/(?<![\w.-])local\.(\w+)/g))
        if (!(name! in tf.locals)) missing.push(`local.${name}`);
      for (const [, type, name] of e.matchAll(/(?<![\w.-])data\.(\w+)\.(\w+)/g))
        if (!tf.data[type!]?.[name!]) missing.push(`data.${type}.${name}`);
      for (const [, type, name] of e.matchAll(/(?<![.\w])((?:aws|random)_\w+)\.(\w+)/g)) {
        if (!tf.resource[type!]?.[name!]) missing.push(`${type}.${name}`);
      }
    }
    expect(expressions.length).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });

  it('has variables for region, sizes and ports, and outputs for the API endpoints', () => {
    for (const v of [
      'region',
      'name',
      'media_node_instance_type',
      'min_media_nodes',
      'max_media_nodes',
      'redis_node_type',
      'rtc_port',
      'max_workers_per_node',
    ]) {
      expect(tf.variable[v], v).toBeDefined();
      expect(tf.variable[v]![0]!.description).toBeTruthy();
    }
    expect(tf.output.http_api_url![0]!.value).toBe('${aws_apigatewayv2_api.management.api_endpoint}');
    expect(tf.output.websocket_url![0]!.value).toBe(
      '${aws_apigatewayv2_api.signaling.api_endpoint}/${local.websocket_stage}',
    );
  });

  it('has the DynamoDB table the code defines, with TTL and point-in-time recovery', () => {
    const table = resource('aws_dynamodb_table', 'state');
    const def = tableDefinition('x');
    const key = (schema: typeof def.KeySchema, type: string) =>
      schema!.find((k) => k.KeyType === type)!.AttributeName;
    expect([table.hash_key, table.range_key]).toEqual([
      key(def.KeySchema, 'HASH'),
      key(def.KeySchema, 'RANGE'),
    ]);
    expect(table.attribute.map((a: Block) => ({ AttributeName: a.name, AttributeType: a.type }))).toEqual(
      def.AttributeDefinitions,
    );
    const [gsi] = def.GlobalSecondaryIndexes!;
    expect(table.global_secondary_index).toEqual([
      {
        name: gsi!.IndexName,
        hash_key: key(gsi!.KeySchema, 'HASH'),
        range_key: key(gsi!.KeySchema, 'RANGE'),
        projection_type: 'ALL',
      },
    ]);
    expect(table.ttl).toEqual([{ attribute_name: 'expiresAt', enabled: true }]);
    expect(table.point_in_time_recovery).toEqual([{ enabled: true }]);
    expect(table.billing_mode).toBe('PAY_PER_REQUEST');
  });

  it('names the dead-letter queue and node queues as the code does', () => {
    expect(resource('aws_sqs_queue', 'dead_letter').name).toBe('${local.dead_letter_name}');
    expect(tf.locals.dead_letter_name).toBe('${var.name}-dead-letter');
    expect(tf.locals.queue_prefix).toBe('${var.name}-');
    expect(tf.locals.node_queues_arn).toMatch(
      /:sqs:\$\{var\.region\}:\$\{local\.account\}:\$\{var\.name\}-node-\*$/,
    );
  });

  it('feeds the webhook function from the events queue, partial batch failures and a dead-letter queue as in CDK', () => {
    expect(tf.locals.events_queue_name).toBe('${var.name}-events');
    expect(tf.locals.events_dlq_name).toBe('${var.name}-events-dead-letter');
    expect(resource('aws_sqs_queue', 'events').redrive_policy).toContain(
      `maxReceiveCount     = ${WEBHOOK_MAX_RECEIVES}`,
    );
    // The webhook function also writes streaming-outs' status (live state in Redis).
    expect(tf.locals.function_environment.webhooks.REDIS_URL).toBe('${local.redis_url}');
    expect(resource('aws_lambda_event_source_mapping', 'webhooks')).toMatchObject({
      event_source_arn: '${aws_sqs_queue.events.arn}',
      function_name: '${aws_lambda_function.function["webhooks"].arn}',
      function_response_types: ['ReportBatchItemFailures'],
    });
    const actions = policy('webhooks')
      .flatMap((s) => s.actions)
      .sort();
    expect(actions).toEqual(GRANTS.webhooks);
    // Services' webhooks (GetItem) and the recordings' records (RecordingProjection: Query, Put).
    const table = policy('webhooks').filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')));
    expect(table).toEqual([
      { actions: [...PERMISSIONS.webhookTable], resources: ['${aws_dynamodb_table.state.arn}'] },
    ]);
    expect([...PERMISSIONS.webhookTable].sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    expect(resource('aws_iam_role_policy', 'webhooks').role).toBe('${aws_iam_role.function["webhooks"].id}');
  });

  it('has an HTTP API and a WebSocket API with $connect, $disconnect and $default on the signaling function', () => {
    expect(resource('aws_apigatewayv2_api', 'management').protocol_type).toBe('HTTP');
    expect(resource('aws_apigatewayv2_api', 'signaling').protocol_type).toBe('WEBSOCKET');
    const routes = resource('aws_apigatewayv2_route', 'signaling');
    expect(routes.for_each).toBe('${toset(["$connect", "$disconnect", "$default"])}');
    expect(routes.target).toBe('integrations/${aws_apigatewayv2_integration.signaling.id}');
    expect(resource('aws_apigatewayv2_integration', 'signaling').integration_uri).toBe(
      '${aws_lambda_function.function["websocket"].invoke_arn}',
    );
    expect(resource('aws_apigatewayv2_route', 'management').route_key).toBe('$default');
    expect(resource('aws_apigatewayv2_integration', 'management')).toMatchObject({
      integration_uri: '${aws_lambda_function.function["http"].invoke_arn}',
      payload_format_version: '2.0',
    });
  });

  it('packages each function from the bundle directory, whose files exist after `npm run bundle:lambdas`', async () => {
    expect(tf.locals.lambda_entries).toBe(
      `\${toset([${Object.keys(LAMBDA_ENTRIES)
        .map((e) => `"${e}"`)
        .join(', ')}])}`,
    );
    expect(resource('aws_lambda_function', 'function')).toMatchObject({
      handler: LAMBDA_HANDLER,
      runtime: expect.stringMatching(/^nodejs(2[2-9]|[3-9]\d)\.x$/),
      filename: '${data.archive_file.lambda[each.key].output_path}',
    });
    expect(tf.data.archive_file!.lambda![0]!.source_dir).toBe('${local.lambda_bundle_dir}/${each.key}');
    const out = mkdtempSync(join(tmpdir(), 'tessera-tf-bundle-'));
    await bundleLambdas(out);
    const [file] = LAMBDA_HANDLER.split('.');
    for (const entry of Object.keys(LAMBDA_ENTRIES))
      expect(existsSync(join(out, entry, `${file}.mjs`)), entry).toBe(true);
  }, 60_000);

  it('runs Redis on ElastiCache in the private subnets, encrypted, with failover', () => {
    expect(resource('aws_elasticache_replication_group', 'live')).toMatchObject({
      engine: 'redis',
      transit_encryption_enabled: true,
      at_rest_encryption_enabled: true,
      automatic_failover_enabled: true,
      multi_az_enabled: true,
      num_cache_clusters: 2,
    });
    expect(resource('aws_elasticache_subnet_group', 'live').subnet_ids).toBe('${aws_subnet.private[*].id}');
    expect(tf.locals.redis_url).toMatch(/^rediss:\/\//);
    expect(resource('aws_vpc', 'main').cidr_block).toBe('${var.vpc_cidr}');
  });

  it('starts media nodes from a launch template whose user data is the CDK one, as a current template', () => {
    expect(readFileSync(TEMPLATE_FILE, 'utf8')).toBe(terraformUserDataTemplate());
    const template = readFileSync(TEMPLATE_FILE, 'utf8');
    expect(template).toContain(`ExecStart=/usr/bin/env ${MEDIA_NODE_COMMAND.join(' ')}`);
    const lt = resource('aws_launch_template', 'media_node');
    expect(lt.user_data).toMatch(
      /^\$\{base64encode\(templatefile\("\$\{path\.module\}\/media-node-user-data\.sh\.tftpl", \{/,
    );
    const passed = [...lt.user_data.matchAll(/^\s+(\w+)\s+=/gm)].map((m: RegExpMatchArray) => m[1]).sort();
    expect(passed).toEqual([...TEMPLATE_VARIABLES].sort());
    const used = [...new Set([...template.matchAll(/(?<!\$)\$\{(\w+)\}/g)].map((m) => m[1]))].sort();
    expect(used).toEqual([...TEMPLATE_VARIABLES].sort());
    expect(lt.metadata_options).toEqual([{ http_endpoint: 'enabled', http_tokens: 'required' }]);
    expect(lt.network_interfaces[0].associate_public_ip_address).toBe(true);
    const group = resource('aws_autoscaling_group', 'media_nodes');
    expect(group.vpc_zone_identifier).toBe('${aws_subnet.public[*].id}');
    expect(group.launch_template[0].id).toBe('${aws_launch_template.media_node.id}');
    expect(group.wait_for_capacity_timeout).toBe('30m'); // the launch hook holds instances through the worker build
    expect(
      group.initial_lifecycle_hook.map((h: Block) => [h.name, h.lifecycle_transition, h.default_result]),
    ).toEqual([
      ['${local.launch_hook}', 'autoscaling:EC2_INSTANCE_LAUNCHING', 'ABANDON'],
      ['${local.terminate_hook}', 'autoscaling:EC2_INSTANCE_TERMINATING', 'CONTINUE'],
    ]);
  });

  it('opens the WebRTC, TURN and RTMP ingest ports to clients and the pipe ports between nodes only', () => {
    const sg = resource('aws_security_group', 'media_nodes');
    const rules = sg.ingress.map((r: Block) => [r.protocol, r.from_port, r.to_port, r.cidr_blocks ?? r.self]);
    expect(rules).toEqual([
      ['udp', '${var.rtc_port}', '${local.rtc_port_last}', ['0.0.0.0/0']],
      ['tcp', '${var.rtc_port}', '${local.rtc_port_last}', ['0.0.0.0/0']],
      ['udp', TURN.port, TURN.port, ['0.0.0.0/0']],
      ['tcp', TURN.port, TURN.port, ['0.0.0.0/0']],
      ['tcp', TURN.tlsPort, TURN.tlsPort, ['0.0.0.0/0']],
      ['tcp', RTMP_INGEST_PORT, RTMP_INGEST_PORT, ['0.0.0.0/0']],
      ['udp', TURN.relayPorts.from, TURN.relayPorts.to, ['0.0.0.0/0']],
      ['udp', PIPE_PORTS.from, PIPE_PORTS.to, true],
    ]);
    expect(tf.locals.rtc_port_last).toBe('${var.rtc_port + var.max_workers_per_node - 1}');
    expect(resource('aws_security_group', 'redis').ingress[0]).toMatchObject({
      from_port: 6379,
      security_groups: ['${aws_security_group.functions.id}', '${aws_security_group.media_nodes.id}'],
    });
  });

  it('scales on the nodes’ reported load and alarms on dead letters and missing heartbeats', () => {
    const tracking = resource('aws_autoscaling_policy', 'load').target_tracking_configuration[0];
    expect(tracking.target_value).toBe('${var.target_load}');
    expect(tracking.customized_metric_specification[0]).toMatchObject({
      namespace: 'Tessera',
      metric_name: 'MediaNodeLoad',
    });
    expect(resource('aws_cloudwatch_event_rule', 'metrics').schedule_expression).toBe('rate(1 minute)');
    expect(resource('aws_cloudwatch_event_target', 'metrics').arn).toBe(
      '${aws_lambda_function.function["metrics"].arn}',
    );
    expect(resource('aws_cloudwatch_metric_alarm', 'dead_letters')).toMatchObject({
      metric_name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: '${aws_sqs_queue.dead_letter.name}' },
      threshold: 0,
    });
    const heartbeat = resource('aws_cloudwatch_metric_alarm', 'missing_heartbeats');
    expect(heartbeat.metric_query.map((q: Block) => q.expression ?? q.metric[0].metric_name)).toEqual([
      'inService - reporting',
      'GroupInServiceInstances',
      'MediaNodesReporting',
    ]);
    expect(resource('aws_cloudwatch_metric_alarm', 'no_media_nodes').metric_name).toBe('MediaNodesReporting');
    for (const [name, [alarm]] of Object.entries(tf.resource.aws_cloudwatch_metric_alarm!)) {
      expect(alarm!.alarm_actions, name).toEqual(['${aws_sns_topic.alarms.arn}']);
    }
  });

  it('keeps PERMISSIONS to exactly what the recordings adapters call', () => {
    expect(actionsOfAdapter('shared/adapters/s3/S3BlobStore.ts')).toEqual(
      [...PERMISSIONS.recordingObjects, ...PERMISSIONS.recordingBucket].sort(),
    );
    expect(PERMISSIONS.recordingBucket).toEqual(['s3:ListBucket']);
    for (const a of actionsOfAdapter('shared/adapters/dynamodb/DynamoRecordingStore.ts'))
      expect(PERMISSIONS.webhookTable).toContain(a);
  });

  it('has a private, encrypted, TLS-only recordings bucket, kept on destroy, named after the deployment', () => {
    expect(tf.locals.recordings_prefix).toBe(deploymentNames('${var.name}').recordingsBucketPrefix);
    const bucket = resource('aws_s3_bucket', 'recordings');
    expect(bucket.bucket_prefix).toBe('${local.recordings_prefix}');
    expect(bucket.force_destroy).toBe(false);
    expect(bucket.lifecycle).toEqual([{ prevent_destroy: true }]);
    expect(resource('aws_s3_bucket_public_access_block', 'recordings')).toEqual({
      bucket: '${aws_s3_bucket.recordings.id}',
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    const sse = resource('aws_s3_bucket_server_side_encryption_configuration', 'recordings');
    expect(sse.bucket).toBe('${aws_s3_bucket.recordings.id}');
    expect(sse.rule[0].apply_server_side_encryption_by_default).toEqual([{ sse_algorithm: 'AES256' }]);
    const bucketPolicy = resource('aws_s3_bucket_policy', 'recordings');
    expect(bucketPolicy.bucket).toBe('${aws_s3_bucket.recordings.id}');
    const tlsOnly = bucketPolicy.policy.match(/^\$\{data\.aws_iam_policy_document\.(\w+)\.json\}$/)![1]!;
    expect(tf.data.aws_iam_policy_document![tlsOnly]![0]!.statement).toEqual([
      expect.objectContaining({
        effect: 'Deny',
        actions: ['s3:*'],
        resources: ['${aws_s3_bucket.recordings.arn}', '${aws_s3_bucket.recordings.arn}/*'],
        condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
      }),
    ]);
    expect(tf.output.recordings_bucket![0]!.value).toBe('${aws_s3_bucket.recordings.id}');
  });

  it('gives the media nodes RECORDINGS_BUCKET and exactly the S3BlobStore actions on that bucket', () => {
    expect(readFileSync(TEMPLATE_FILE, 'utf8')).toMatch(/^RECORDINGS_BUCKET=\$\{recordings_bucket\}$/m);
    expect(resource('aws_launch_template', 'media_node').user_data).toMatch(
      /^\s+recordings_bucket\s+= aws_s3_bucket\.recordings\.id$/m,
    );
    const onBucket = policy('media_node').filter((s) =>
      s.resources.some((r) => r.includes('s3_bucket.recordings')),
    );
    expect(onBucket).toEqual([
      { actions: [...PERMISSIONS.recordingObjects], resources: ['${aws_s3_bucket.recordings.arn}/*'] },
      { actions: [...PERMISSIONS.recordingBucket], resources: ['${aws_s3_bucket.recordings.arn}'] },
    ]);
  });

  it('grants the same least privilege as the CDK stack: no wildcard actions, named resources', () => {
    const all = Object.keys(tf.data.aws_iam_policy_document!).flatMap(policy);
    for (const s of all) {
      for (const a of s.actions) expect(a).not.toContain('*');
      for (const r of s.resources) expect(r).not.toBe('*');
    }
    const actions = (name: string) =>
      policy(name)
        .flatMap((s) => s.actions)
        .sort();
    expect(actions('control_plane')).toEqual(GRANTS.controlPlane);
    expect(actions('connections')).toEqual(GRANTS.connections);
    expect(actions('media_node')).toEqual(GRANTS.mediaNode);
    // The TURN secret is the media nodes' alone; the functions' secrets are the other three.
    expect(
      policy('media_node').find((s) => s.actions.includes('secretsmanager:GetSecretValue'))!.resources,
    ).toEqual(['${aws_secretsmanager_secret.turn.arn}']);
    expect(JSON.stringify(tf.data.aws_iam_policy_document!.control_plane)).not.toContain('secret.turn');
    expect(resource('aws_secretsmanager_secret_version', 'turn').secret_string).toBe(
      '${random_password.turn.result}',
    );
    expect(policy('control_plane')[0]!.resources).toEqual([
      '${aws_dynamodb_table.state.arn}',
      '${aws_dynamodb_table.state.arn}/index/*',
    ]);
    // The control-plane policy goes to the http and websocket roles only; metrics gets none.
    expect(resource('aws_iam_role_policy', 'control_plane').for_each).toBe('${toset(["http", "websocket"])}');
    expect(resource('aws_iam_role_policy', 'signaling_connections').role).toBe(
      '${aws_iam_role.function["websocket"].id}',
    );
    for (const [name, [attachment]] of Object.entries(tf.resource.aws_iam_role_policy_attachment ?? {})) {
      expect(attachment!.policy_arn, name).toMatch(
        /:iam::aws:policy\/service-role\/AWSLambdaVPCAccessExecutionRole$/,
      );
    }
  });
});
