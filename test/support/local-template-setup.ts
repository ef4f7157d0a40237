/**
 * Setup file of the DynamoDB tiers: every test file uses the template the run's global setup synthesized
 * (dynamodb-global-setup.ts) instead of importing the stack and synthesizing the same template in its own process.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { inject } from 'vitest';
import { useLocalTemplate } from '#infra/local/table.ts';

useLocalTemplate(Template.fromJSON(inject('localTemplate')));
