import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';

/**
 * One table holds every durable record (single-table design; docs/architecture.md, "State layout"
 * mirrors this):
 *
 *   item                 pk                       sk      gsi1pk                        gsi1sk
 *   service              SERVICE#<serviceId>      META    SERVICES                      <createdAt>#<serviceId>
 *   service name claim   SERVICENAME#<name>       META    –                             –
 *   room                 ROOM#<roomId>            META    SERVICE#<serviceId>#ROOMS     <createdAt>#<roomId>
 *   room count           SERVICE#<serviceId>      ROOMCOUNT  –                          –   (ADD ±1 with each room create/delete)
 *
 * Rooms are keyed by room id alone so any function can load a room from a join token; the
 * owning service is an attribute, checked on every access. gsi1 lists a service's rooms (and
 * all services) in creation order. `expiresAt` (epoch seconds) is the TTL attribute, for
 * records that should expire on their own (none do yet). Creates are conditional on
 * attribute_not_exists(pk); updates on the stored `version`.
 */
export const tableDefinition = (TableName: string): CreateTableCommandInput => ({
  TableName,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'gsi1pk', AttributeType: 'S' },
    { AttributeName: 'gsi1sk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: 'gsi1',
      KeySchema: [
        { AttributeName: 'gsi1pk', KeyType: 'HASH' },
        { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
  ],
});

export const TTL_ATTRIBUTE = 'expiresAt';

/** Creates the table (local cluster, tests) if it is missing and waits until it is active. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`table ${tableName} did not become active`);
}
