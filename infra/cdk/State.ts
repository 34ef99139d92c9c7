import { Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { TTL_ATTRIBUTE, tableDefinition } from '../../shared/adapters/dynamodb/table.ts';
import { deploymentNames } from '../deployment.ts';

/** Durable state (DynamoDB, the recordings bucket), live state (ElastiCache Redis) and the secrets. */
export class State extends Construct {
  readonly table: dynamodb.Table;
  /** RECORDINGS_BUCKET: the media nodes upload recordings here; kept when the stack is deleted. */
  readonly recordings: s3.Bucket;
  readonly redisUrl: string;
  /** TOKEN_SECRET, MASTER_KEY, SUPER_SERVICE_KEY: generated here, read by the functions at cold start. */
  readonly secrets: Record<'TOKEN_SECRET' | 'MASTER_KEY' | 'SUPER_SERVICE_KEY', secretsmanager.Secret>;
  /** Shared by the media nodes and the coturn beside each (TURN_SECRET); the functions never see it. */
  readonly turnSecret: secretsmanager.Secret;

  constructor(
    scope: Construct,
    id: string,
    props: {
      name: string;
      network: { vpc: ec2.IVpc; redisSecurityGroup: ec2.ISecurityGroup };
      redisNodeType: string;
    },
  ) {
    super(scope, id);
    this.table = tableFromDefinition(this, 'Table');
    this.recordings = recordingsBucket(this, 'Recordings', props.name);
    this.redisUrl = this.#redis(props);
    const secret = (key: string, description: string) =>
      new secretsmanager.Secret(this, key, {
        description,
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
      });
    this.secrets = {
      TOKEN_SECRET: secret('TokenSecret', 'Tessera: signs join tokens'),
      MASTER_KEY: secret('MasterKey', 'Tessera: seals service keys at rest'),
      SUPER_SERVICE_KEY: secret('SuperServiceKey', 'Tessera: the super service key (management API)'),
    };
    this.turnSecret = secret('TurnSecret', 'Tessera: TURN credentials (coturn static-auth-secret)');
  }

  /** Two nodes across zones with automatic failover, encrypted in transit and at rest. */
  #redis(props: {
    name: string;
    network: { vpc: ec2.IVpc; redisSecurityGroup: ec2.ISecurityGroup };
    redisNodeType: string;
  }): string {
    const subnets = new elasticache.CfnSubnetGroup(this, 'RedisSubnets', {
      description: 'Tessera live state',
      subnetIds: props.network.vpc.privateSubnets.map((s) => s.subnetId),
    });
    const redis = new elasticache.CfnReplicationGroup(this, 'Redis', {
      replicationGroupDescription: `${props.name} live state`,
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: props.redisNodeType,
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [props.network.redisSecurityGroup.securityGroupId],
    });
    return `rediss://${redis.attrPrimaryEndPointAddress}:${redis.attrPrimaryEndPointPort}`;
  }
}

/**
 * Private, S3-managed encryption, TLS only, and retained: recordings are users' data. Named
 * `<name>-recordings-<suffix>` like Terraform's bucket_prefix: the suffix (the end of the stack's
 * id) is new with each stack, so a stack created again never collides with a retained bucket.
 */
function recordingsBucket(scope: Construct, id: string, name: string): s3.Bucket {
  const stackSuffix = Fn.select(4, Fn.split('-', Fn.select(2, Fn.split('/', Stack.of(scope).stackId))));
  const bucket = new s3.Bucket(scope, id, {
    bucketName: `${deploymentNames(name).recordingsBucketPrefix}${stackSuffix}`,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // The TLS-only policy stays with the retained bucket.
  bucket.policy?.applyRemovalPolicy(RemovalPolicy.RETAIN);
  return bucket;
}

/**
 * The table exactly as the code creates it locally (`tableDefinition`), with the TTL attribute
 * and point-in-time recovery; kept when the stack is deleted.
 */
function tableFromDefinition(scope: Construct, id: string): dynamodb.Table {
  const def = tableDefinition('unused');
  const type = (name: string) => {
    const t = def.AttributeDefinitions!.find((a) => a.AttributeName === name)!.AttributeType;
    return t === 'N'
      ? dynamodb.AttributeType.NUMBER
      : t === 'B'
        ? dynamodb.AttributeType.BINARY
        : dynamodb.AttributeType.STRING;
  };
  const keys = (schema: { AttributeName?: string; KeyType?: string }[]) => {
    const pk = schema.find((k) => k.KeyType === 'HASH')!.AttributeName!;
    const sk = schema.find((k) => k.KeyType === 'RANGE')?.AttributeName;
    return {
      partitionKey: { name: pk, type: type(pk) },
      ...(sk ? { sortKey: { name: sk, type: type(sk) } } : {}),
    };
  };
  const table = new dynamodb.Table(scope, id, {
    ...keys(def.KeySchema!),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: TTL_ATTRIBUTE,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (const index of def.GlobalSecondaryIndexes ?? []) {
    table.addGlobalSecondaryIndex({
      indexName: index.IndexName!,
      ...keys(index.KeySchema!),
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
  return table;
}
