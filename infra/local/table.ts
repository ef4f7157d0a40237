/**
 * The local table comes from the synthesized CDK template (never written by hand): the template's table
 * definition becomes a CreateTable input, and its TimeToLiveSpecification an UpdateTimeToLive call.
 * Synthesis takes a few seconds, so it is done once per process and cached.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { Template } from 'aws-cdk-lib/assertions';
import { tableCreateInput, tableTimeToLiveAttribute } from '#infra/local-table.ts';

export interface TableDefinition {
  /** The CreateTable input for a table of this name. */
  createInput(tableName: string): CreateTableCommandInput;
  /** The TTL attribute of the synthesized table, if it has one. */
  readonly ttlAttribute: string | undefined;
}

let template: Promise<Template> | undefined;
let cached: Promise<TableDefinition> | undefined;

/**
 * The synthesized template (bundling off), once per process: the table definition, the state machine ASL and
 * the Lambda functions the local runtime runs all come from it. The stack's modules are imported only here, when
 * the template is synthesized (importing them takes as long as synthesizing).
 */
export function localTemplate(): Promise<Template> {
  template ??= (async () => (await import('#infra/synth.ts')).synthTemplate({ bundling: false }))();
  template.catch(() => {
    template = undefined;
  });
  return template;
}

/**
 * Use this template instead of synthesizing one: the tests synthesize it once per run (their global setup) and
 * give it to every test file, which would otherwise synthesize the same template again in its own process.
 */
export function useLocalTemplate(given: Template): void {
  template = Promise.resolve(given);
  cached = undefined;
}

/** The table definition of the synthesized template (synthesized once per process). */
export function tableDefinition(): Promise<TableDefinition> {
  cached ??= (async () => {
    const template = await localTemplate();
    return {
      createInput: (tableName: string) => tableCreateInput(template, tableName),
      ttlAttribute: tableTimeToLiveAttribute(template),
    };
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

/**
 * Create `tableName` from the synthesized template (plus its TTL) unless it exists. `stream: false` leaves the
 * template's stream out: for a table whose stream nothing reads (test files without a stream poller). DynamoDB Local
 * keeps the stream records of all its tables together, and every write to a table with a stream looks them up: after
 * 30,000 stream records in one table, a PutItem into another table with a stream took 41-53 ms instead of 2-10 ms,
 * into one without 1.4-1.7 ms; deleting the first table did not help (measured 2026-12-03).
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  opts: { stream?: boolean } = {},
): Promise<'created' | 'exists'> {
  const withStream = opts.stream ?? true;
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    // A table made before the outbox had no stream: turn it on, as the template now declares it.
    const stream = (await tableDefinition()).createInput(tableName).StreamSpecification;
    if (withStream && stream && !Table?.StreamSpecification?.StreamEnabled) {
      await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: stream }));
    }
    return 'exists';
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const definition = await tableDefinition();
  const { StreamSpecification, ...withoutStream } = definition.createInput(tableName);
  try {
    await client.send(new CreateTableCommand(withStream ? { ...withoutStream, StreamSpecification } : withoutStream));
  } catch (error) {
    if (error instanceof ResourceInUseException) return 'exists';
    throw error;
  }
  if (definition.ttlAttribute) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: definition.ttlAttribute, Enabled: true },
      }),
    );
  }
  return 'created';
}
