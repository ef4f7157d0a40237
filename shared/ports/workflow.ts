import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';

/**
 * The workflow port: one Step Functions execution per request, named after the request id so that a
 * retried start is the same execution. Task tokens resume the approval stages.
 */
export interface WorkflowInput {
  requestId: string;
  /** 'approval': run the approval stages first; 'start': wait for the start, grant; 'expiry': only keep the time. */
  phase: 'approval' | 'start' | 'expiry';
  startDateTime: string;
  /** The approval stage to wait for, and its time-out (the task's TimeoutSecondsPath). */
  stage: number;
  stageTimeoutSeconds: number;
  /** Given for 'expiry': the first time to wake up and check the end. */
  grant?: { granted: true; waitUntil: string };
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
  constructor(
    private readonly stateMachineArn: string,
    /** Public for tests, which add middleware to it (fault injection). */
    readonly client = new SFNClient({}),
  ) {}

  async start(name: string, input: WorkflowInput): Promise<void> {
    try {
      await this.client.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }),
      );
    } catch (error) {
      // Same name and input: AWS answers with the running execution; a different input is a real conflict.
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
  }

  async stop(name: string, cause: string): Promise<void> {
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    try {
      await this.client.send(new StopExecutionCommand({ executionArn, cause }));
    } catch (error) {
      if (!(error instanceof ExecutionDoesNotExist)) throw error;
    }
  }

  async succeed(token: string, output: unknown): Promise<boolean> {
    return this.resume(() =>
      this.client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) })),
    );
  }

  async fail(token: string, error: string, cause: string): Promise<boolean> {
    return this.resume(() => this.client.send(new SendTaskFailureCommand({ taskToken: token, error, cause })));
  }

  private async resume(send: () => Promise<unknown>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (error) {
      if (error instanceof TaskDoesNotExist || error instanceof TaskTimedOut || error instanceof InvalidToken)
        return false;
      throw error;
    }
  }
}
