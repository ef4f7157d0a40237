import { formatMs } from '../domain/duration.ts';
import type { Mail } from '../ports/mailer.ts';

/**
 * The mails Elevate sends, as text and HTML. Each names the role, scope, who asked, why, for how long,
 * and what to do next (the API call, and the CLI command).
 */
export interface RequestFacts {
  id: string;
  action: string;
  principalId: string;
  principalName: string | null;
  roleId: string;
  roleName: string;
  scope: string;
  justification: string | null;
  ticket: { system: string; number: string } | null;
  startDateTime: string;
  endDateTime: string | null;
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

const duration = (f: RequestFacts): string =>
  f.endDateTime ? formatMs(Date.parse(f.endDateTime) - Date.parse(f.startDateTime)) : 'permanent';

function facts(f: RequestFacts): [string, string][] {
  return [
    ['Role', `${f.roleName} (${f.roleId})`],
    ['Scope', f.scope],
    ['Requested by', f.principalName ? `${f.principalName} (${f.principalId})` : f.principalId],
    ['Justification', f.justification ?? '-'],
    ['Ticket', f.ticket ? `${f.ticket.system} ${f.ticket.number}` : '-'],
    ['From', f.startDateTime],
    ['Duration', duration(f)],
    ['Request', f.id],
  ];
}

function render(subject: string, intro: string, rows: [string, string][], actions: string[]): Mail & { to: [] } {
  const text = [intro, '', ...rows.map(([k, v]) => `${k}: ${v}`), '', ...actions].join('\n');
  const html = [
    `<p>${escapeHtml(intro)}</p>`,
    '<table>',
    ...rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`),
    '</table>',
    ...actions.map((a) => `<p><code>${escapeHtml(a)}</code></p>`),
  ].join('\n');
  return { to: [], subject, text, html };
}

export function approvalNeeded(f: RequestFacts, apiUrl: string, stage: number, stages: number) {
  return render(
    `Approval needed: ${f.principalId} requests ${f.roleId} at ${f.scope}`,
    `${f.principalName ?? f.principalId} asks to activate ${f.roleName}. Your decision is needed${stages > 1 ? ` (stage ${stage + 1} of ${stages})` : ''}.`,
    facts(f),
    [
      `Approve: elevate approve ${f.id} --reason "..."`,
      `Deny:    elevate deny ${f.id} --reason "..."`,
      `API:     curl -X POST -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"justification":"..."}' ${apiUrl}/v1/requests/${f.id}/approve`,
    ],
  );
}

export function requestOutcome(f: RequestFacts, outcome: 'approved' | 'denied' | 'timed out' | 'canceled' | 'granted') {
  const verb = outcome === 'granted' ? 'is active' : `was ${outcome}`;
  return render(
    `Your request for ${f.roleId} ${verb}`,
    `Your request for ${f.roleName} at ${f.scope} ${verb}.`,
    facts(f),
    [`Check: elevate check ${f.principalId} ${f.roleId} ${f.scope}`],
  );
}

export function privilegedActivated(f: RequestFacts) {
  return render(
    `Privileged role activated: ${f.roleId} by ${f.principalId}`,
    `${f.principalName ?? f.principalId} now holds the privileged role ${f.roleName}.`,
    facts(f),
    [],
  );
}

export function expiryReminder(f: RequestFacts, left: string) {
  return render(
    `${f.roleId} ends in ${left}`,
    `Your ${f.action === 'selfActivate' ? 'activation' : 'assignment'} of ${f.roleName} at ${f.scope} ends at ${f.endDateTime}.`,
    facts(f),
    [`Extend: elevate extend ${f.roleId} --scope ${f.scope}`],
  );
}
