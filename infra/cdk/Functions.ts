import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type LAMBDA_ENTRIES, LAMBDA_HANDLER } from '../bundleLambdas.ts';
import { deploymentNames, PERMISSIONS } from '../deployment.ts';
import type { Network } from './Network.ts';
import type { State } from './State.ts';

export interface FunctionsProps {
  name: string;
  /** `npm run bundle:lambdas` output: one directory per function holding index.mjs. */
  bundleDir: string;
  network: Network;
  state: State;
  /** `<name>-events`: what the webhook function consumes. */
  eventsQueue: sqs.IQueue;
}

/**
 * The stateless functions from the same entries the local modes run: the management API
 * behind an HTTP API, signaling behind a WebSocket API, and the per-minute cluster metrics.
 */
export class Functions extends Construct {
  readonly http: lambda.Function;
  readonly websocket: lambda.Function;
  readonly metrics: lambda.Function;
  readonly webhooks: lambda.Function;
  readonly httpApi: apigw.HttpApi;
  readonly webSocketApi: apigw.WebSocketApi;
  readonly webSocketStage: apigw.WebSocketStage;
  /** The WebSocket API's @connections endpoint (WS_MANAGEMENT_ENDPOINT). */
  readonly managementEndpoint: string;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const names = deploymentNames(props.name);
    const { state, network } = props;
    const stack = Stack.of(this);

    this.webSocketApi = new apigw.WebSocketApi(this, 'WebSocketApi', { apiName: `${props.name}-signaling` });
    this.managementEndpoint = `https://${this.webSocketApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}/${names.webSocketStage}`;

    const secretArns = Object.fromEntries(
      Object.entries(state.secrets).map(([name, secret]) => [`${name}_ARN`, secret.secretArn]),
    );
    const controlPlane = {
      DYNAMODB_TABLE: state.table.tableName,
      REDIS_URL: state.redisUrl,
      SQS_QUEUE_PREFIX: names.queuePrefix,
      WS_MANAGEMENT_ENDPOINT: this.managementEndpoint,
      ...secretArns,
    };
    const fn = (
      entry: keyof typeof LAMBDA_ENTRIES,
      environment: Record<string, string>,
      memorySize: number,
    ) =>
      new lambda.Function(this, `${entry[0]!.toUpperCase()}${entry.slice(1)}Function`, {
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        code: lambda.Code.fromAsset(join(props.bundleDir, entry)),
        handler: LAMBDA_HANDLER,
        memorySize,
        timeout: Duration.seconds(29),
        environment: { LOG_LEVEL: 'info', DEPLOYMENT_NAME: props.name, ...environment },
        vpc: network.vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [network.functionsSecurityGroup],
        logGroup: new logs.LogGroup(this, `${entry}Logs`, {
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      });
    this.http = fn('http', controlPlane, 1024);
    this.websocket = fn('websocket', controlPlane, 1024);
    this.metrics = fn('metrics', { REDIS_URL: state.redisUrl }, 256);
    this.webhooks = fn(
      'webhooks',
      {
        // Streaming-outs' status (StreamingOutProjection) is live state.
        REDIS_URL: state.redisUrl,
        DYNAMODB_TABLE: state.table.tableName,
        SQS_QUEUE_PREFIX: names.queuePrefix,
        MASTER_KEY_ARN: state.secrets.MASTER_KEY.secretArn,
      },
      256,
    );

    // Least privilege: the table, the deployment's node queues (send only), its dead letters (read)
    // and the secrets.
    const nodeQueues = stack.formatArn({ service: 'sqs', resource: names.nodeQueues });
    const deadLetters = stack.formatArn({ service: 'sqs', resource: names.deadLetterQueue });
    const allow = (actions: readonly string[], resources: string[]) =>
      new iam.PolicyStatement({ actions: [...actions], resources });
    for (const f of [this.http, this.websocket]) {
      f.addToRolePolicy(allow(PERMISSIONS.table, [state.table.tableArn, `${state.table.tableArn}/index/*`]));
      f.addToRolePolicy(allow(PERMISSIONS.functionQueues, [nodeQueues]));
      f.addToRolePolicy(allow(PERMISSIONS.functionDeadLetters, [deadLetters]));
      f.addToRolePolicy(
        allow(
          PERMISSIONS.secrets,
          Object.values(state.secrets).map((s) => s.secretArn),
        ),
      );
    }
    // The webhook function: services' webhooks (read), recordings' records (query, put), its queue
    // (consume, delay) and MASTER_KEY.
    this.webhooks.addToRolePolicy(allow(PERMISSIONS.webhookTable, [state.table.tableArn]));
    const eventsQueue = stack.formatArn({ service: 'sqs', resource: names.eventsQueue });
    this.webhooks.addToRolePolicy(allow(PERMISSIONS.webhookQueue, [eventsQueue]));
    this.webhooks.addToRolePolicy(allow(PERMISSIONS.secrets, [state.secrets.MASTER_KEY.secretArn]));
    // Partial batch responses: only the events whose delivery failed come back.
    new lambda.EventSourceMapping(this, 'WebhooksEvents', {
      target: this.webhooks,
      eventSourceArn: props.eventsQueue.queueArn,
      batchSize: 10,
      reportBatchItemFailures: true,
    });
    this.websocket.addToRolePolicy(
      allow(
        PERMISSIONS.connections,
        PERMISSIONS.connectionMethods.map((method) =>
          stack.formatArn({
            service: 'execute-api',
            resource: this.webSocketApi.apiId,
            resourceName: `${names.webSocketStage}/${method}/@connections/*`,
          }),
        ),
      ),
    );

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      apiName: `${props.name}-management`,
      defaultIntegration: new HttpLambdaIntegration('Management', this.http),
    });
    const signaling = new WebSocketLambdaIntegration('Signaling', this.websocket);
    for (const routeKey of ['$connect', '$disconnect', '$default']) {
      this.webSocketApi.addRoute(routeKey, { integration: signaling });
    }
    this.webSocketStage = new apigw.WebSocketStage(this, 'Stage', {
      webSocketApi: this.webSocketApi,
      stageName: names.webSocketStage,
      autoDeploy: true,
    });

    new events.Rule(this, 'MetricsSchedule', {
      description: 'Tessera cluster metrics for alarms and media-node scaling',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.metrics)],
    });
  }
}
