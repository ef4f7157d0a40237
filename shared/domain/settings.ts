import * as z from 'zod';

/**
 * Elevate's governance settings (api.md, "Governance"): read by every call that may need MFA, so kept apart from
 * the pending changes' schemas (governance.ts), which a function builds only when it decides or lists changes.
 */
const GovernanceSettings = z.strictObject({
  adminMfa: z.boolean().default(true),
  requireSecondAdmin: z.boolean().default(false),
});

export const Settings = z.strictObject({ governance: GovernanceSettings }).meta({ id: 'Settings' });
export type Settings = z.infer<typeof Settings>;

export const defaultSettings = (): Settings => ({ governance: { adminMfa: true, requireSecondAdmin: false } });
