import * as z from 'zod';
import { Alert, AlertSettings, AlertStatus } from '../../domain/alerts.ts';
import type { OperationsOf } from '../operations.ts';
import { type OperationContract, page, pageQuery } from './common.ts';

const AlertId = z.string().regex(/^[A-Za-z]+-[0-9a-f]{12}$/, 'an alert id such as roleWithoutMfa-0123456789ab');

/** The contract of the alerts function's operations (the whole contract: ../contract.ts). */
export const ALERTS = {
  listAlerts: {
    query: z.strictObject({ ...pageQuery, status: AlertStatus.optional() }),
    responses: { 200: { description: 'Alerts', schema: page(Alert) } },
  },
  dismissAlert: {
    params: z.strictObject({ id: AlertId }),
    responses: { 200: { description: 'The dismissed alert', schema: Alert } },
  },
  getAlertSettings: {
    responses: { 200: { description: 'The settings', schema: AlertSettings } },
  },
  putAlertSettings: { body: AlertSettings, responses: { 200: { description: 'The settings', schema: AlertSettings } } },
} as const satisfies Record<OperationsOf<'alerts'>, OperationContract>;
