import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

/**
 * Two availability zones: media nodes in the public subnets (their public addresses are the ICE
 * candidates clients reach), functions and Redis in the private ones. Functions leave through
 * NAT for SQS, Secrets Manager and the WebSocket API's @connections endpoint (a private
 * execute-api endpoint cannot reach a public API); DynamoDB through a gateway endpoint.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  readonly functionsSecurityGroup: ec2.SecurityGroup;
  readonly mediaNodesSecurityGroup: ec2.SecurityGroup;
  readonly redisSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: { natGateways: number }) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 22 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      gatewayEndpoints: { DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } },
    });
    const group = (name: string, description: string) =>
      new ec2.SecurityGroup(this, name, { vpc: this.vpc, description, allowAllOutbound: true });
    this.functionsSecurityGroup = group('Functions', 'Tessera functions');
    this.mediaNodesSecurityGroup = group(
      'MediaNodes',
      'Tessera media nodes: WebRTC from anywhere, pipes between nodes',
    );
    this.redisSecurityGroup = group('Redis', 'Tessera live state: Redis from functions and media nodes');
    for (const client of [this.functionsSecurityGroup, this.mediaNodesSecurityGroup]) {
      this.redisSecurityGroup.addIngressRule(client, ec2.Port.tcp(6379), 'Redis (TLS)');
    }
  }
}
