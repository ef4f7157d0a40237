import * as z from 'zod';
import { DomainError } from './errors.ts';
import { IsoDuration } from './primitives.ts';

/**
 * Security alerts (Entra PIM's): each type with its settings. The scan raises an alert when its cause is
 * found, and resolves it when the cause has gone; a dismissed alert stays dismissed while the cause lasts.
 */
export const ALERT_TYPES = [
  'roleWithoutMfa',
  'tooManyPermanentAssignments',
  'activatedTooFrequently',
  'staleEligibility',
  'emergencyAccountUsed',
  'expiryMissed',
  'provisioningFailed',
  'sessionFenceFailed',
  'assignedOutsideElevate',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

/**
 * The types the hourly alerts scan finds the causes of, and so resolves when their cause has gone. The others are
 * raised where their cause happens and resolved there: `sessionFenceFailed` by the fence (a later fence of the same
 * permission set, account and user that succeeds), `assignedOutsideElevate` by the drift job.
 */
export const SCANNED_ALERT_TYPES: ReadonlySet<AlertType> = new Set([
  'roleWithoutMfa',
  'tooManyPermanentAssignments',
  'activatedTooFrequently',
  'staleEligibility',
  'emergencyAccountUsed',
  'expiryMissed',
]);

const Severity = z
  .enum(['low', 'medium', 'high'])
  .meta({ id: 'Severity', description: 'How urgent an alert of this type is' });
type Severity = z.infer<typeof Severity>;

/** The severity of the types whose settings have none (provisioning.md fixes them). */
const FIXED_SEVERITY: Partial<Record<AlertType, Severity>> = {
  sessionFenceFailed: 'high',
  assignedOutsideElevate: 'high',
};

/** What drift does with an assignment or membership no live grant backs: alert only, or also remove it. */
export const DriftMode = z.enum(['alert', 'remove']);
export type DriftMode = z.infer<typeof DriftMode>;

const AssignedOutsideElevate = z.strictObject({ enabled: z.boolean(), mode: DriftMode }).meta({
  id: 'AssignedOutsideElevateAlert',
  description: 'Drift: an assignment of a managed permission set or group that no live grant backs',
});

export const AlertStatus = z.enum(['active', 'dismissed', 'resolved']);
export type AlertStatus = z.infer<typeof AlertStatus>;

/** An alert: one per cause (`<type>-<hash of the subject>`), as the API shows it. */
export const Alert = z.object({
  id: z.string(),
  type: z.enum(ALERT_TYPES),
  severity: Severity,
  status: AlertStatus,
  detectedAt: z.string(),
  updatedAt: z.string(),
  affected: z
    .array(z.record(z.string(), z.unknown()))
    .meta({ description: 'A sample: the first 100 affected items (affectedCount says how many there are)' }),
  /** How many there are in all (absent on alerts written before the sample). */
  affectedCount: z.number().int().optional(),
  details: z.record(z.string(), z.unknown()),
});
export type Alert = z.infer<typeof Alert>;

/**
 * The settings of an alert type, by what the type is measured with (each published once, by name, in the OpenAPI
 * document; the settings' request and response forms both refer to them).
 */
const AlertToggle = z
  .strictObject({ enabled: z.boolean(), severity: Severity })
  .meta({ id: 'AlertToggle', description: 'An alert type that is on or off' });
const AlertOverWindow = z
  .strictObject({ enabled: z.boolean(), severity: Severity, window: IsoDuration })
  .meta({ id: 'AlertOverWindow', description: 'An alert type that looks back over a window' });

export const AlertSettings = z.strictObject({
  roleWithoutMfa: AlertToggle,
  tooManyPermanentAssignments: z
    .strictObject({ enabled: z.boolean(), severity: Severity, threshold: z.int().min(0).max(10_000) })
    .meta({ id: 'PermanentAssignmentsAlert' }),
  activatedTooFrequently: z
    .strictObject({
      enabled: z.boolean(),
      severity: Severity,
      threshold: z.int().min(1).max(10_000),
      window: IsoDuration,
    })
    .meta({ id: 'ActivationFrequencyAlert' }),
  staleEligibility: z
    .strictObject({ enabled: z.boolean(), severity: Severity, days: z.int().min(1).max(3650) })
    .meta({ id: 'StaleEligibilityAlert' }),
  emergencyAccountUsed: AlertOverWindow,
  expiryMissed: AlertOverWindow,
  /** A grant AWS could not carry out (rolled back), or a removal AWS refused (provisioning.md). */
  provisioningFailed: AlertOverWindow.default({ enabled: true, severity: 'high', window: 'P7D' }),
  /** Optional in a PUT (then the default), always in a GET: settings saved before it existed stay valid. */
  assignedOutsideElevate: AssignedOutsideElevate.default({ enabled: true, mode: 'alert' }),
});
export type AlertSettings = z.infer<typeof AlertSettings>;

export function defaultAlertSettings(): AlertSettings {
  return {
    roleWithoutMfa: { enabled: true, severity: 'high' },
    tooManyPermanentAssignments: { enabled: true, severity: 'medium', threshold: 2 },
    activatedTooFrequently: { enabled: true, severity: 'medium', threshold: 5, window: 'P1D' },
    staleEligibility: { enabled: true, severity: 'low', days: 30 },
    emergencyAccountUsed: { enabled: true, severity: 'high', window: 'P1D' },
    expiryMissed: { enabled: true, severity: 'medium', window: 'P7D' },
    provisioningFailed: { enabled: true, severity: 'high', window: 'P7D' },
    assignedOutsideElevate: { enabled: true, mode: 'alert' },
  };
}

/** The severity an alert of this type is raised with. */
export function alertSeverity(settings: AlertSettings, type: AlertType): Severity {
  const own = (settings as Record<string, { severity?: Severity } | undefined>)[type]?.severity;
  return own ?? FIXED_SEVERITY[type] ?? 'high';
}

/**
 * Stored settings as they are read: a type added since they were saved gets its default, so saving once before an
 * upgrade does not turn the others back to their defaults.
 */
export function withDefaults(stored: unknown): unknown {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return stored;
  return { ...defaultAlertSettings(), ...stored };
}

/** A cause the scan found: one alert per type and subject. */
export interface Finding {
  type: AlertType;
  subject: string;
  affected: Record<string, unknown>[];
  details: Record<string, unknown>;
}

/**
 * How many affected items an alert keeps. An alert is one DynamoDB item (at most 400 KB): ~3,000 affected
 * assignments of a large organisation's `staleEligibility` would not fit, and the scan would stop at it. The
 * alert keeps the first ALERT_SAMPLE (in the finding's order) and the count of all of them.
 */
export const ALERT_SAMPLE = 100;

/** A finding's affected items as an alert keeps them: a bounded sample and the total count. */
export function boundedAffected(
  affected: Record<string, unknown>[],
  max = ALERT_SAMPLE,
): { affected: Record<string, unknown>[]; affectedCount: number } {
  return { affected: affected.slice(0, max), affectedCount: affected.length };
}

export type AlertState = Pick<Alert, 'status'>;

/** What happens to an alert given whether its cause is found now. */
export function nextAlertStatus(
  current: AlertState | undefined,
  found: boolean,
): 'raise' | 'update' | 'resolve' | 'keep' {
  if (found) {
    if (!current || current.status === 'resolved') return 'raise';
    return current.status === 'active' ? 'update' : 'keep';
  }
  return current && current.status !== 'resolved' ? 'resolve' : 'keep';
}

/** Counts per key above a threshold: `activatedTooFrequently` over (principal, role) pairs. */
export function overThreshold(counts: ReadonlyMap<string, number>, threshold: number): Map<string, number> {
  return new Map([...counts].filter(([, n]) => n > threshold));
}

/** Only an active alert is dismissed (a resolved one has no cause left; a dismissed one is already). */
export function checkDismissable(alert: { status: 'active' | 'dismissed' | 'resolved' }): void {
  if (alert.status !== 'active') {
    throw new DomainError('Conflict', `the alert is ${alert.status}; only an active alert can be dismissed`);
  }
}
