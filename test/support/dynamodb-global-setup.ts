/**
 * Vitest global setup: ONE in-memory DynamoDB Local per test run, shared by every project that lists this
 * setup (integration, e2e, workflow, browser) and by every file (each file uses its own table). Its endpoint
 * reaches the tests through `inject('dynamoEndpoint')`. AWS_ENDPOINT_URL_DYNAMODB, when set, is used instead (no Java).
 *
 * It also synthesizes the template (bundling off) once per run, while Java starts, and hands it to every test
 * file (`inject('localTemplate')`, installed by test/support/local-template-setup.ts): each file runs in a process
 * of its own, which would otherwise import the stack and synthesize the same template again (seconds per file).
 */
import type { TestProject } from 'vitest/node';
import { type DynamoDbLocal, startDynamoDbLocal } from '#infra/local/dynamodb.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    /** The synthesized template's JSON (bundling off), as `localTemplate()` would synthesize it. */
    localTemplate: Record<string, unknown>;
  }
}

// Shared across the projects of one run (each project loads this module on its own), so Java starts once.
interface Shared {
  dynamo: Promise<DynamoDbLocal> | undefined;
  template: Record<string, unknown> | undefined;
  users: number;
}
const KEY = Symbol.for('elevate.test.dynamodb-local');
const registry = globalThis as unknown as Record<symbol, Shared | undefined>;
registry[KEY] ??= { dynamo: undefined, template: undefined, users: 0 };
const shared: Shared = registry[KEY];

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  shared.users++;
  // Java starts slowly on a loaded machine: give it minutes, not the default one. The stack is imported and
  // synthesized (seconds, in this process) once Java is spawned, while the JVM starts.
  shared.dynamo ??= startDynamoDbLocal({
    dataDir: ':memory:',
    startTimeoutMs: 180_000,
    whileStarting: async () => {
      shared.template ??= (await import('#infra/synth.ts')).synthTemplate({ bundling: false }).toJSON();
    },
  });
  let dynamo: DynamoDbLocal;
  try {
    dynamo = await shared.dynamo;
    if (!shared.template) throw new Error('the template was not synthesized');
  } catch (error) {
    shared.users--;
    shared.dynamo = undefined;
    throw error;
  }
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('localTemplate', shared.template);
  return async () => {
    shared.users--;
    if (shared.users === 0) {
      shared.dynamo = undefined;
      await dynamo.stop();
    }
  };
}
