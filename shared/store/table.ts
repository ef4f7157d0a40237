/**
 * The one DynamoDB table's shape: its key attributes, its time-to-live attribute and its global secondary indexes.
 * The CDK data construct and the local runtime both derive the real table from this definition
 * (the local runtime through the synthesized template), so the two can never disagree.
 * Every key attribute named here is a string (`ttl` holds epoch seconds); what goes into each is declared
 * once per access pattern in entities.ts (the recipes of keyspace.ts).
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'ttl',
  globalSecondaryIndexes: [
    { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
    { indexName: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  ],
} as const;

export type IndexName = (typeof TABLE.globalSecondaryIndexes)[number]['indexName'];
