/**
 * A Step Functions endpoint for the local runtime: the AWS JSON 1.0 protocol (POST /, `X-Amz-Target:
 * AWSStepFunctions.<Operation>`, `application/x-amz-json-1.0`), so handlers keep using the real
 * `@aws-sdk/client-sfn` with `endpoint` (or AWS_ENDPOINT_URL_SFN) pointing here. Errors are AWS-shaped
 * (`{ "__type": "ExecutionAlreadyExists", "message": ... }`, status 400) and dates are epoch seconds.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isRecord } from './asl.ts';
import { type ExecutionStatus, type LocalStepFunctions, SfnError } from './runner.ts';

const CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'AWSStepFunctions.';
const STATUSES: readonly ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

type Body = Record<string, unknown>;
type Operation = (runner: LocalStepFunctions, body: Body) => Body;

/** The JSON protocol's timestamps: epoch seconds, with milliseconds as the fraction. */
function epochSeconds(date: Date | undefined): number | undefined {
  return date === undefined ? undefined : date.getTime() / 1000;
}

function requiredString(body: Body, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') {
    throw new SfnError('ValidationException', `1 validation error detected: '${key}' must not be null`);
  }
  return value;
}

function optionalString(body: Body, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new SfnError('ValidationException', `'${key}' must be a string`);
  return value;
}

const operations: Record<string, Operation> = {
  StartExecution: (runner, body) => {
    const name = optionalString(body, 'name');
    const input = optionalString(body, 'input');
    const started = runner.startExecution({
      stateMachineArn: requiredString(body, 'stateMachineArn'),
      ...(name !== undefined && { name }),
      ...(input !== undefined && { input }),
    });
    return { executionArn: started.executionArn, startDate: epochSeconds(started.startDate) };
  },
  DescribeExecution: (runner, body) => {
    const exec = runner.describeExecution(requiredString(body, 'executionArn'));
    return {
      ...exec,
      startDate: epochSeconds(exec.startDate),
      stopDate: epochSeconds(exec.stopDate),
      inputDetails: { included: true },
      ...(exec.output !== undefined && { outputDetails: { included: true } }),
    };
  },
  StopExecution: (runner, body) => {
    const stopped = runner.stopExecution(
      requiredString(body, 'executionArn'),
      optionalString(body, 'error'),
      optionalString(body, 'cause'),
    );
    return { stopDate: epochSeconds(stopped.stopDate) };
  },
  ListExecutions: (runner, body) => {
    const stateMachineArn = optionalString(body, 'stateMachineArn');
    const status = optionalString(body, 'statusFilter');
    const statusFilter = STATUSES.find((candidate) => candidate === status);
    if (status !== undefined && !statusFilter) throw new SfnError('ValidationException', `bad statusFilter ${status}`);
    const maxResults = typeof body.maxResults === 'number' && body.maxResults > 0 ? body.maxResults : 1000;
    const executions = runner
      .listExecutions({
        ...(stateMachineArn !== undefined && { stateMachineArn }),
        ...(statusFilter !== undefined && { statusFilter }),
      })
      .slice(0, maxResults)
      .map((item) => ({ ...item, startDate: epochSeconds(item.startDate), stopDate: epochSeconds(item.stopDate) }));
    return { executions };
  },
  SendTaskSuccess: (runner, body) => {
    runner.sendTaskSuccess(requiredString(body, 'taskToken'), requiredString(body, 'output'));
    return {};
  },
  SendTaskFailure: (runner, body) => {
    runner.sendTaskFailure(
      requiredString(body, 'taskToken'),
      optionalString(body, 'error'),
      optionalString(body, 'cause'),
    );
    return {};
  },
  SendTaskHeartbeat: (runner, body) => {
    runner.sendTaskHeartbeat(requiredString(body, 'taskToken'));
    return {};
  },
};

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  send(res, status, { __type: type, message });
}

/** Whether a request on a shared server is a Step Functions API call (to route it to sfnRequestHandler). */
export function isSfnRequest(req: IncomingMessage): boolean {
  const target = req.headers['x-amz-target'];
  return typeof target === 'string' && target.startsWith(TARGET_PREFIX);
}

/** A node:http request listener for the Step Functions API, to mount on any server. */
export function sfnRequestHandler(runner: LocalStepFunctions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => sendError(res, 400, 'SerializationException', 'could not read the request'));
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      const operationName =
        typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
      const operation = operations[operationName];
      if (req.method !== 'POST' || !operation) {
        sendError(res, 400, 'UnknownOperationException', `unknown operation ${String(target)}`);
        return;
      }
      let body: unknown;
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        body = text === '' ? {} : JSON.parse(text);
      } catch {
        sendError(res, 400, 'SerializationException', 'the request body is not JSON');
        return;
      }
      if (!isRecord(body)) {
        sendError(res, 400, 'SerializationException', 'the request body must be a JSON object');
        return;
      }
      try {
        send(res, 200, operation(runner, body));
      } catch (error) {
        if (error instanceof SfnError) sendError(res, 400, error.code, error.message);
        else sendError(res, 500, 'InternalFailure', error instanceof Error ? error.message : String(error));
      }
    });
  };
}

export interface SfnEndpoint {
  /** e.g. `http://127.0.0.1:41234`: the SDK's `endpoint`, or AWS_ENDPOINT_URL_SFN. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serve the Step Functions API on 127.0.0.1 (port 0: a free port). */
export async function startSfnEndpoint(runner: LocalStepFunctions, port = 0): Promise<SfnEndpoint> {
  const server = createServer(sfnRequestHandler(runner));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
