/**
 * A request's approval progress, and the approver's decision (Approve / Deny with a justification), with the step-up
 * of a policy that needs the approver's MFA: without MFA in the sign-in, the decision first asks the issuer for a
 * fresh sign-in with MFA (auth.stepUp), landing back on the request, where the approver decides again.
 */
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import FormField from '@cloudscape-design/components/form-field';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Textarea from '@cloudscape-design/components/textarea';
import { useState } from 'react';
import type { Api } from '../api.ts';
import { useConsole } from '../app/context.tsx';
import type { Request, RolePolicy } from '../types.ts';
import { ErrorText, useAction } from './outcome.tsx';

/** "Stage 1 of 2: 1 of 2 approvals", or the request's outcome when no stage waits. */
export function approvalProgress(r: Request): string {
  const stages = r.approval.stages;
  if (stages.length === 0) return 'No approval needed';
  const index = stages.findIndex((s) => s.status === 'Pending');
  if (index < 0) return stages.every((s) => s.status === 'Approved') ? 'Approved' : (stages.at(-1)?.status ?? '');
  const stage = stages[index] as Request['approval']['stages'][number];
  const approvals = stage.decisions.filter((d) => d.decision === 'Approve').length;
  const quorum = `${approvals} of ${stage.requiredApprovals} approval${stage.requiredApprovals === 1 ? '' : 's'}`;
  return stages.length > 1 ? `Stage ${index + 1} of ${stages.length}: ${quorum}` : quorum;
}

/** What the request asked for: a duration, an end, or none. */
export const askedDuration = (r: Request): string =>
  r.schedule.expiration.duration ?? r.schedule.expiration.endDateTime ?? 'no end';

export const ticketText = (r: Request): string => (r.ticket ? `${r.ticket.system} ${r.ticket.number}` : '—');

/** Whether the policy the request was decided under needs MFA in the approver's sign-in. */
async function needsApproverMfa(api: Api, r: Request): Promise<boolean> {
  const policy = await api.get<RolePolicy>(
    `/v1/roles/${encodeURIComponent(r.roleId)}/policy?scope=${encodeURIComponent(r.policyScope)}`,
  );
  return policy.activation.approval.requireApproverMfa === true;
}

/** Approve / Deny with a justification, for one request waiting for the caller. */
export function DecisionForm({ request: r, after }: { request: Request; after: () => Promise<void> | void }) {
  const { api, auth, session, announce } = useConsole();
  const [justification, setJustification] = useState('');
  const [steppingUp, setSteppingUp] = useState(false);
  const action = useAction();
  const fieldId = `decision-justification-${r.id}`;

  const decide = (verb: 'approve' | 'deny') => async () => {
    let stepUp = false;
    const ok = await action.run(async () => {
      if (!session.mfa && (await needsApproverMfa(api, r))) {
        stepUp = true;
        return;
      }
      const decided = await api.send<Request>('POST', `/v1/requests/${encodeURIComponent(r.id)}/${verb}`, {
        ...(justification.trim() && { justification: justification.trim() }),
      });
      announce(`${verb === 'approve' ? 'Approved' : 'Denied'}: ${r.roleId} for ${r.principalId} (${decided.status})`);
    });
    if (stepUp) {
      // The issuer's fresh sign-in with MFA; the console comes back to this request, where the approver decides again.
      setSteppingUp(true);
      announce('This role needs MFA in your sign-in: signing in again with MFA');
      await auth.stepUp(`/requests/${r.id}`);
      return;
    }
    if (ok) await after();
  };

  return (
    <form
      aria-label={`Decide on ${r.principalId}'s request for ${r.roleId}`}
      onSubmit={(event) => event.preventDefault()}
    >
      <SpaceBetween size="s">
        <FormField label="Justification" controlId={fieldId} description="optional, kept with your decision">
          <Textarea
            controlId={fieldId}
            rows={2}
            value={justification}
            onChange={({ detail }) => setJustification(detail.value)}
          />
        </FormField>
        {steppingUp && <Box variant="p">Signing in again with MFA…</Box>}
        <SpaceBetween direction="horizontal" size="xs">
          <Button variant="primary" onClick={decide('approve')} loading={action.busy || steppingUp}>
            Approve
          </Button>
          <Button onClick={decide('deny')} loading={action.busy || steppingUp}>
            Deny
          </Button>
        </SpaceBetween>
        <ErrorText error={action.error} />
      </SpaceBetween>
    </form>
  );
}
