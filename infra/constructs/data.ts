import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  Billing,
  type GlobalSecondaryIndexPropsV2,
  type ITableV2,
  StreamViewType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Effect, Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AUDIT_KEY_PREFIXES } from '#shared/store/records.ts';
import { TABLE } from '#shared/store/table.ts';

/** The table and its least-privilege grants: what other constructs take instead of a bare table. */
export interface IDataTable {
  /** The DynamoDB table. */
  readonly table: ITableV2;
  /** Lets the grantee read items and query the table and its indexes. */
  grantReadData(grantee: IGrantable): Grant;
  /** Lets the grantee read and write items, never deleting or updating an audit event or chain head. */
  grantReadWriteData(grantee: IGrantable): Grant;
  grantWriteOwnItems(grantee: IGrantable, partitionKeys: readonly string[]): Grant;
  /** Lets the grantee put (create or replace) items whose partition key starts with one of the prefixes, only. */
  grantPutItemsUnder(grantee: IGrantable, prefixes: readonly string[]): Grant;
}

export interface DataTableProps {
  /**
   * What happens to the table when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Elevate's one DynamoDB table, derived only from `TABLE` (shared/store/table.ts): key attributes, TTL
 * attribute and global secondary indexes (every key attribute a string, every index projecting ALL).
 *
 * On-demand billing, point-in-time recovery, deletion protection, retained on stack removal, and a stream of new
 * images (the outbox publisher reads it).
 * Encryption at rest uses the AWS-managed key (`aws/dynamodb`): its use is logged in CloudTrail like a
 * customer-managed key's, it needs no key policy to keep in step with the functions' roles, and nothing in
 * Elevate needs cross-account key sharing or key-level revocation that only a customer-managed key gives.
 */
export class DataTable extends Construct implements IDataTable {
  /** The table, for grants and for wiring its name into functions. */
  public readonly table: ITableV2;

  constructor(scope: Construct, id: string, props: DataTableProps = {}) {
    super(scope, id);
    const globalSecondaryIndexes: GlobalSecondaryIndexPropsV2[] = TABLE.globalSecondaryIndexes.map((index) => ({
      indexName: index.indexName,
      partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
      sortKey: { name: index.sortKey, type: AttributeType.STRING },
    }));
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: TABLE.timeToLiveAttribute,
      globalSecondaryIndexes,
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: TableEncryptionV2.awsManagedKey(),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      // The transactional outbox: new outbox items reach the publisher through the stream (constructs/outbox.ts).
      dynamoStream: StreamViewType.NEW_IMAGE,
    });
  }

  /**
   * Lets the grantee read items (single, batch, transactional) and query the table and its indexes.
   * Narrower than `TableV2.grantReadData`: no `Scan`, no stream reads, and each index by name instead of
   * `index/*`.
   */
  public grantReadData(grantee: IGrantable): Grant {
    return this.grant(grantee, READ_ACTIONS);
  }

  /**
   * Lets the grantee read, put, update and delete items; `TransactWriteItems` is authorized through these
   * same item actions (with `ConditionCheckItem` for condition checks). An explicit deny goes with it: no
   * DeleteItem, UpdateItem or BatchWriteItem on an item whose partition key starts with one of
   * `AUDIT_KEY_PREFIXES` (audit events and chain heads), whatever else the role is given.
   *
   * IAM cannot tell a PutItem that creates an item from one that replaces it (no condition key sees the
   * ConditionExpression), so PutItem stays allowed there: an audit event is only ever put under
   * `attribute_not_exists` and a chain head under its expected seq (records.ts), and `audit:verify` detects
   * a replaced event through the hash chain.
   */
  public grantReadWriteData(grantee: IGrantable): Grant {
    const grant = this.grant(grantee, [...READ_ACTIONS, ...WRITE_ACTIONS]);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.DENY,
        actions: [...AUDIT_DENIED_ACTIONS],
        resources: [this.table.tableArn],
        conditions: {
          'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': AUDIT_KEY_PREFIXES.map((prefix) => `${prefix}*`) },
        },
      }),
    );
    return grant;
  }

  /**
   * Lets the grantee put and delete only the items of the named partitions (`dynamodb:LeadingKeys`): a reading job's
   * own progress record, and nothing else. `TransactWriteItems` is authorized through these item actions.
   */
  public grantWriteOwnItems(grantee: IGrantable, partitionKeys: readonly string[]): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...partitionKeys] } },
    });
  }

  /**
   * Lets the grantee put items whose partition key starts with one of the prefixes (`dynamodb:LeadingKeys`), and
   * nothing else: no update, no delete (so no audit deny is needed). `TransactWriteItems` is authorized through
   * PutItem per item.
   */
  public grantPutItemsUnder(grantee: IGrantable, prefixes: readonly string[]): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:PutItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.map((p) => `${p}*`) } },
    });
  }

  private grant(grantee: IGrantable, tableActions: readonly string[]): Grant {
    const indexArns = TABLE.globalSecondaryIndexes.map((index) => `${this.table.tableArn}/index/${index.indexName}`);
    const onTable = Grant.addToPrincipal({ grantee, actions: [...tableActions], resourceArns: [this.table.tableArn] });
    const onIndexes = Grant.addToPrincipal({ grantee, actions: [...INDEX_ACTIONS], resourceArns: indexArns });
    return onTable.combine(onIndexes);
  }
}

/** Item reads the store performs on the base table (GetItem, BatchGetItem, TransactGetItems, conditions). */
export const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
] as const;

/** Item writes the store performs (single items and TransactWriteItems; it never calls BatchWriteItem). */
export const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;

/** Denied on the audit partitions (`AUDIT_KEY_PREFIXES`) to every function that writes. */
export const AUDIT_DENIED_ACTIONS = ['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'] as const;

/** Indexes are only ever queried. */
export const INDEX_ACTIONS = ['dynamodb:Query'] as const;
