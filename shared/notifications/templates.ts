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

export function approvalNeeded(f: RequestFacts, apiUrl: string, stage: number, stages: number, consoleUrl?: string) {
  return render(
    `Approval needed: ${f.principalId} requests ${f.roleId} at ${f.scope}`,
    `${f.principalName ?? f.principalId} asks to activate ${f.roleName}. Your decision is needed${stages > 1 ? ` (stage ${stage + 1} of ${stages})` : ''}.`,
    facts(f),
    [
      ...(consoleUrl ? [`Open:    ${consoleUrl}/requests/${encodeURIComponent(f.id)}`] : []),
      `Approve: elevate approve ${f.id} --reason "..."`,
      `Deny:    elevate deny ${f.id} --reason "..."`,
      `API:     curl -X POST -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"justification":"..."}' ${apiUrl}/v1/requests/${f.id}/approve`,
    ],
  );
}

/** `granted`: the role is active; `eligible`: the principal may now activate it (an eligible assignment started). */
export function requestOutcome(
  f: RequestFacts,
  outcome: 'approved' | 'denied' | 'timed out' | 'canceled' | 'granted' | 'eligible',
) {
  if (outcome === 'eligible') {
    return render(
      `You are eligible for ${f.roleId}`,
      `You are now eligible for ${f.roleName} at ${f.scope}: activate it when you need it.`,
      facts(f),
      [`Activate: elevate activate ${f.roleId} --scope ${f.scope} --reason "..."`],
    );
  }
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

/** An access review instance, as its reviewers' mail describes it. */
export interface ReviewFacts {
  reviewId: string;
  instanceId: string;
  displayName: string;
  startDateTime: string;
  endDateTime: string;
}

function reviewRows(f: ReviewFacts): [string, string][] {
  return [
    ['Review', f.displayName],
    ['From', f.startDateTime],
    ['Until', f.endDateTime],
    ['Instance', `${f.reviewId} / ${f.instanceId}`],
  ];
}

const reviewActions = (apiUrl: string, consoleUrl?: string) => [
  ...(consoleUrl ? [`Open:       ${consoleUrl}/reviews`] : []),
  'Your queue: elevate reviews',
  `API:        curl -H "Authorization: Bearer $TOKEN" ${apiUrl}/v1/me/reviews`,
];

export function reviewStarted(f: ReviewFacts, apiUrl: string, consoleUrl?: string) {
  return render(
    `Access review: ${f.displayName}`,
    `The access review "${f.displayName}" has started and needs your decisions by ${f.endDateTime}: approve the access that is still needed, deny the rest.`,
    reviewRows(f),
    reviewActions(apiUrl, consoleUrl),
  );
}

export function reviewReminder(f: ReviewFacts, apiUrl: string, consoleUrl?: string) {
  return render(
    `Reminder: access review ${f.displayName} ends ${f.endDateTime}`,
    `The access review "${f.displayName}" is halfway through and still waits for your decisions (it ends at ${f.endDateTime}).`,
    reviewRows(f),
    reviewActions(apiUrl, consoleUrl),
  );
}

/** A security alert of high severity, sent to the admins when it is raised. */
export function alertRaised(
  type: string,
  severity: string,
  at: string,
  affected: Record<string, unknown>[],
  count = affected.length,
) {
  const items = affected.map((a) => JSON.stringify(a));
  if (count > affected.length) items.push(`... and ${count - affected.length} more`);
  return {
    subject: `Elevate alert (${severity}): ${type}`,
    text: [
      `${type} was raised at ${at}.`,
      '',
      'Affected:',
      ...items.map((i) => `- ${i}`),
      '',
      'See GET /v1/alerts.',
    ].join('\n'),
    html: `<p><b>${escapeHtml(type)}</b> was raised at ${escapeHtml(at)}.</p><ul>${items.map((i) => `<li><code>${escapeHtml(i)}</code></li>`).join('')}</ul>`,
  };
}

/** The weekly digest: its lines as text, and as preformatted HTML. */
export function digest(subject: string, lines: string[]) {
  return { subject, text: lines.join('\n'), html: `<pre>${escapeHtml(lines.join('\n'))}</pre>` };
}
