import type { OperationsOf } from '../operations.ts';
import type { OperationContract } from './common.ts';

/** The contract of the slack function's operations (the whole contract: ../contract.ts). */
export const SLACK = {
  slackInteractions: {
    responses: {
      200: { description: 'Taken (refusals are told in Slack); 401 unsigned or stale; docs/slack.md' },
    },
  },
} as const satisfies Record<OperationsOf<'slack'>, OperationContract>;
