import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type DeploymentSettings, deploymentNames, WEBHOOK_MAX_RECEIVES } from '../deployment.ts';
import { Functions } from './Functions.ts';
import { MediaNodes } from './MediaNodes.ts';
import { Monitoring } from './Monitoring.ts';
import { Network } from './Network.ts';
import { State } from './State.ts';

export interface TesseraStackProps extends StackProps {
  settings: DeploymentSettings;
  /** `npm run bundle:lambdas` output. */
  lambdaBundleDir: string;
  /** The repository root: the media nodes' release. */
  releaseDir: string;
}

/** Tessera on AWS (docs/architecture.md, "Three ways to run": AWS). docs/deploy.md explains each part. */
export class TesseraStack extends Stack {
  constructor(scope: Construct, id: string, props: TesseraStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const names = deploymentNames(settings.name);

    const network = new Network(this, 'Network', { natGateways: settings.natGateways });
    const state = new State(this, 'State', {
      name: settings.name,
      network,
      redisNodeType: settings.redisNodeType,
    });
    // The nodes' command queues come and go with the nodes (each creates `<name>-node-<id>`);
    // what they share, and what is alarmed on, is the dead-letter queue.
    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: names.deadLetterQueue,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    // Events from the nodes to the webhook function; one undeliverable after every retry is kept.
    const eventsDeadLetterQueue = new sqs.Queue(this, 'EventsDeadLetterQueue', {
      queueName: names.eventsDeadLetterQueue,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const eventsQueue = new sqs.Queue(this, 'EventsQueue', {
      queueName: names.eventsQueue,
      // Six times the function's timeout (AWS's advice for Lambda sources).
      visibilityTimeout: Duration.seconds(180),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: eventsDeadLetterQueue, maxReceiveCount: WEBHOOK_MAX_RECEIVES },
    });
    const functions = new Functions(this, 'Functions', {
      name: settings.name,
      bundleDir: props.lambdaBundleDir,
      network,
      state,
      eventsQueue,
    });
    const mediaNodes = new MediaNodes(this, 'MediaNodes', {
      settings,
      network,
      redisUrl: state.redisUrl,
      managementEndpoint: functions.managementEndpoint,
      webSocketApiId: functions.webSocketApi.apiId,
      releaseDir: props.releaseDir,
      turnSecret: state.turnSecret,
      recordingsBucket: state.recordings,
    });
    const monitoring = new Monitoring(this, 'Monitoring', {
      name: settings.name,
      deadLetterQueue,
      mediaNodeGroupName: mediaNodes.group.autoScalingGroupName,
      alarmEmail: settings.alarmEmail,
    });

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('HttpApiUrl', functions.httpApi.apiEndpoint, 'management API (REST /v1) and the SDK’s HTTP calls');
    output('WebSocketUrl', functions.webSocketStage.url, 'signaling: connect with ?token=<join token>');
    output('TableName', state.table.tableName, 'DynamoDB table (durable state)');
    output(
      'RecordingsBucket',
      state.recordings.bucketName,
      'S3 bucket of the recordings (kept on stack deletion)',
    );
    output('DeadLetterQueueUrl', deadLetterQueue.queueUrl, 'commands no media node could process');
    output(
      'SuperServiceKeySecret',
      state.secrets.SUPER_SERVICE_KEY.secretArn,
      'the super service key: aws secretsmanager get-secret-value',
    );
    output('AlarmTopic', monitoring.topic.topicArn, 'subscribe to be told of alarms');
  }
}
