import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArnFormat, Duration, IgnoreMode, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  type DeploymentSettings,
  deploymentNames,
  METRICS,
  PERMISSIONS,
  PIPE_PORTS,
  RTMP_INGEST_PORT,
  rtcPorts,
  TURN,
} from '../deployment.ts';
import { deployedNodeUserData } from '../mediaNodeUserData.ts';
import type { Network } from './Network.ts';

export interface MediaNodesProps {
  settings: DeploymentSettings;
  network: Network;
  redisUrl: string;
  /** The WebSocket API's @connections endpoint, and its API to grant ManageConnections on. */
  managementEndpoint: string;
  webSocketApiId: string;
  /** The release the instances run: the repository without node_modules (an S3 asset). */
  releaseDir: string;
  /** TURN_SECRET, read at boot by the node and its coturn. */
  turnSecret: secretsmanager.ISecret;
  /** RECORDINGS_BUCKET: where the nodes upload recordings (S3BlobStore). */
  recordingsBucket: s3.IBucket;
}

/**
 * Media nodes on EC2 in an Auto Scaling group: a launch template whose user data installs and
 * starts the node, public addresses announced to clients, scaling on the load the nodes report,
 * and lifecycle hooks so a node is in service only once it reports and drains before it goes.
 */
export class MediaNodes extends Construct {
  readonly group: autoscaling.AutoScalingGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: MediaNodesProps) {
    super(scope, id);
    const { settings, network } = props;
    const names = deploymentNames(settings.name);
    const stack = Stack.of(this);

    const rtc = rtcPorts(settings);
    const sg = network.mediaNodesSecurityGroup;
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.udpRange(rtc.from, rtc.to), 'WebRTC media (UDP)');
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcpRange(rtc.from, rtc.to), 'WebRTC media (TCP fallback)');
    // coturn beside each node: TURN over UDP, TCP and TLS, and the ports it relays from.
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.udp(TURN.port), 'TURN (UDP)');
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(TURN.port), 'TURN (TCP)');
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(TURN.tlsPort), 'TURN (TLS)');
    sg.addIngressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.udpRange(TURN.relayPorts.from, TURN.relayPorts.to),
      'TURN relay ports',
    );
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(RTMP_INGEST_PORT), 'RTMP push ingest (encoders)');
    sg.addIngressRule(
      sg,
      ec2.Port.udpRange(PIPE_PORTS.from, PIPE_PORTS.to),
      'pipe transports between media nodes',
    );

    // What git tracks, nothing local: no node_modules, no Terraform state (it holds secrets), no .env.
    const release = new s3assets.Asset(this, 'Release', {
      path: props.releaseDir,
      ignoreMode: IgnoreMode.GIT,
      exclude: [
        ...readFileSync(join(props.releaseDir, '.gitignore'), 'utf8')
          .split('\n')
          .filter((line) => line.trim() && !line.startsWith('#')),
        '.git',
        '**/cdk.out',
        '**/.terraform',
        '*.tfstate*',
        '.env*',
      ],
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Tessera media node',
    });
    const nodeQueues = stack.formatArn({ service: 'sqs', resource: names.nodeQueues });
    const deadLetter = stack.formatArn({ service: 'sqs', resource: names.deadLetterQueue });
    const eventsQueue = stack.formatArn({ service: 'sqs', resource: names.eventsQueue });
    const groupArn = stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: `*:autoScalingGroupName/${names.mediaNodeGroup}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const allow = (actions: readonly string[], resources: string[]) =>
      new iam.PolicyStatement({ actions: [...actions], resources });
    const connections = (method: string) =>
      stack.formatArn({
        service: 'execute-api',
        resource: props.webSocketApiId,
        resourceName: `${names.webSocketStage}/${method}/@connections/*`,
      });
    const statements = [
      // Its own queue, created at start (SqsCommandQueue.open), and its peers' queues for cascading.
      allow(PERMISSIONS.nodeQueues, [nodeQueues]),
      allow(PERMISSIONS.deadLetterQueue, [deadLetter]),
      // Room, participant and stream events for the webhook function (SqsEventSink).
      allow(PERMISSIONS.eventsQueue, [eventsQueue]),
      allow(PERMISSIONS.connections, PERMISSIONS.connectionMethods.map(connections)),
      allow(PERMISSIONS.release, [
        `arn:${stack.partition}:s3:::${release.s3BucketName}/${release.s3ObjectKey}`,
      ]),
      // Recordings: the objects S3BlobStore puts, heads, gets and deletes, and listing the bucket.
      allow(PERMISSIONS.recordingObjects, [props.recordingsBucket.arnForObjects('*')]),
      allow(PERMISSIONS.recordingBucket, [props.recordingsBucket.bucketArn]),
      allow(PERMISSIONS.lifecycle, [groupArn]),
      allow(PERMISSIONS.secrets, [props.turnSecret.secretArn]),
    ];
    for (const s of statements) this.role.addToPolicy(s);

    const userData = ec2.UserData.custom(
      deployedNodeUserData({
        releaseUrl: `s3://${release.s3BucketName}/${release.s3ObjectKey}`,
        region: stack.region,
        redisUrl: props.redisUrl,
        queuePrefix: names.queuePrefix,
        managementUrl: props.managementEndpoint,
        rtcPort: String(settings.rtcPort),
        drainTimeoutSeconds: String(settings.drainTimeoutSeconds),
        turnSecretArn: props.turnSecret.secretArn,
        recordingsBucket: props.recordingsBucket.bucketName,
        lifecycle: {
          groupName: names.mediaNodeGroup,
          launchHook: names.launchHook,
          terminateHook: names.terminateHook,
        },
      }),
    );

    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      instanceType: new ec2.InstanceType(settings.mediaNodeInstanceType),
      // Debian 12, as scripts/setup-machine.sh expects; resolved at deploy time, no lookup at synth.
      machineImage: ec2.MachineImage.fromSsmParameter('/aws/service/debian/release/12/latest/amd64'),
      userData,
      role: this.role,
      securityGroup: sg,
      associatePublicIpAddress: true,
      requireImdsv2: true,
      blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(30, { encrypted: true }) }],
    });

    this.group = new autoscaling.AutoScalingGroup(this, 'Group', {
      autoScalingGroupName: names.mediaNodeGroup,
      vpc: network.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      launchTemplate,
      minCapacity: settings.minMediaNodes,
      maxCapacity: settings.maxMediaNodes,
      groupMetrics: [new autoscaling.GroupMetrics(autoscaling.GroupMetric.IN_SERVICE_INSTANCES)],
      // A fresh instance builds the mediasoup worker before it serves.
      defaultInstanceWarmup: Duration.minutes(10),
    });
    // On the group itself, not as separate resources: the first instances must be held too.
    (this.group.node.defaultChild as autoscaling.CfnAutoScalingGroup).lifecycleHookSpecificationList = [
      {
        lifecycleHookName: names.launchHook,
        lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        heartbeatTimeout: 25 * 60,
        defaultResult: 'ABANDON',
      },
      {
        lifecycleHookName: names.terminateHook,
        lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeatTimeout: settings.drainTimeoutSeconds + 120,
        defaultResult: 'CONTINUE',
      },
    ];
    this.group.scaleToTrackMetric('LoadTracking', {
      metric: new cloudwatch.Metric({
        namespace: METRICS.namespace,
        metricName: METRICS.load,
        dimensionsMap: { Deployment: settings.name },
        statistic: 'Average',
        period: Duration.minutes(1),
      }),
      targetValue: settings.targetLoad,
    });
  }
}
