import type { SFNClient } from '@aws-sdk/client-sfn';
import { SDK_MAX_ATTEMPTS } from '../retry.ts';
import { lazyClient } from './lazy.ts';

/**
 * The workflow port: one Step Functions execution per request, named after the request id so that a
 * retried start is the same execution. Task tokens resume the approval stages.
 */
export interface WorkflowInput {
  requestId: string;
  /**
   * 'approval': run the approval stages first; 'start': wait for the start, grant; 'expiry': only keep the time;
   * 'provision': make a grant of `grant.assignmentId` in AWS, then keep its time; 'deprovision': take an ended grant
   * (`expiry.assignmentId`) away in AWS.
   */
  phase: 'approval' | 'start' | 'expiry' | 'provision' | 'deprovision';
  /** The start, rounded up to the second (a Wait timestamp). */
  startDateTime: string;
  /**
   * The latest time this execution waits until (a Wait timestamp, start + 300 days): a wait that would go past it
   * waits until it, and a new execution carries on (a STANDARD execution lives at most a year).
   */
  horizon: string;
  /** The approval stage to wait for, and its time-out (the task's TimeoutSecondsPath). */
  stage: number;
  stageTimeoutSeconds: number;
  /** Given for 'expiry': the first time to wake up and check the end; for 'provision', the grant to make. */
  grant?: {
    granted: true;
    waitUntil: string | null;
    provisioning?: boolean;
    waitSeconds?: number;
    assignmentId?: string;
  };
  /** Given for 'deprovision': the ended grant to take away. */
  expiry?: { expired: true; waitUntil: null; deprovisioning: true; waitSeconds: number; assignmentId: string };
  endDateTime: string | null;
  stages: { timeoutSeconds: number }[];
}

export interface Workflow {
  start(name: string, input: WorkflowInput): Promise<void>;
  stop(name: string, cause: string): Promise<void>;
  /** Resumes a waiting task; false when the token is no longer valid (already resumed or timed out). */
  succeed(token: string, output: unknown): Promise<boolean>;
  fail(token: string, error: string, cause: string): Promise<boolean>;
}

export class StepFunctionsWorkflow implements Workflow {
  /** The SDK is loaded on first use: functions that never start a workflow do not pay for it at cold start. */
  readonly #sfn = lazyClient(
    () => import('@aws-sdk/client-sfn'),
    (m) => new m.SFNClient({ maxAttempts: SDK_MAX_ATTEMPTS }),
  );

  constructor(private readonly stateMachineArn: string) {}

  /** The client (public for tests, which add middleware to it: fault injection). */
  client(): Promise<SFNClient> {
    return this.#sfn.client();
  }

  async start(name: string, input: WorkflowInput): Promise<void> {
    const { sdk, client } = await this.#sfn.get();
    try {
      await client.send(
        new sdk.StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }),
      );
    } catch (error) {
      // Same name and input: AWS answers with the running execution; a different input is a real conflict.
      if (!isNamed(error, 'ExecutionAlreadyExists')) throw error;
    }
  }

  async stop(name: string, cause: string): Promise<void> {
    const { sdk, client } = await this.#sfn.get();
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    try {
      await client.send(new sdk.StopExecutionCommand({ executionArn, cause }));
    } catch (error) {
      if (!isNamed(error, 'ExecutionDoesNotExist')) throw error;
    }
  }

  async succeed(token: string, output: unknown): Promise<boolean> {
    const { sdk, client } = await this.#sfn.get();
    return this.resume(() =>
      client.send(new sdk.SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) })),
    );
  }

  async fail(token: string, error: string, cause: string): Promise<boolean> {
    const { sdk, client } = await this.#sfn.get();
    return this.resume(() => client.send(new sdk.SendTaskFailureCommand({ taskToken: token, error, cause })));
  }

  private async resume(send: () => Promise<unknown>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (error) {
      if (isNamed(error, 'TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken')) return false;
      throw error;
    }
  }
}

const isNamed = (error: unknown, ...names: string[]): boolean => error instanceof Error && names.includes(error.name);
