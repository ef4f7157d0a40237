/** Everyone's pages: "My roles" (activate, extend, deactivate), "My requests" and one request. */
import type { Page as ApiPage } from '../api.ts';
import { attempt, durationHours, formatDate, type Page, type PageContext, timeLeft } from '../context.ts';
import { field, fill, h, table, text } from '../dom.ts';
import type { AssignmentView, Request, RequestInput, RolePolicy } from '../types.ts';
import { approvalProgress, decisionForm } from './approvals.ts';

const POLL_MS = 3000;

/** The activation form: exactly what the policy in force asks for. */
function activateForm(ctx: PageContext, a: AssignmentView, policy: RolePolicy, done: () => void): HTMLElement {
  const rules = policy.activation;
  const maxHours = durationHours(rules.maxDuration);
  const duration = h('input', {
    type: 'number',
    name: 'duration',
    min: 0.25,
    step: 0.25,
    required: true,
    ...(maxHours !== undefined && { max: maxHours, value: maxHours }),
  });
  const justification = h('textarea', { name: 'justification', required: rules.requireJustification, rows: 2 });
  const ticketSystem = h('input', { name: 'ticketSystem', required: true });
  const ticketNumber = h('input', { name: 'ticketNumber', required: true });
  const outcome = h('div', { class: 'outcome' });
  const notes = [
    rules.requireMfa && !ctx.session.mfa && 'This role needs MFA: sign out and sign in again with MFA.',
    rules.approval.required && `Needs approval (${rules.approval.stages.length} stage(s)).`,
  ].filter((x): x is string => typeof x === 'string');
  const form = h(
    'form',
    { class: 'activate', 'aria-label': `Activate ${a.roleId} at ${a.scope}` },
    ...notes.map((n) => h('p', { class: 'hint' }, n)),
    field('Duration', duration, `hours${maxHours === undefined ? '' : `, at most ${maxHours}`}`),
    field('Justification', justification, rules.requireJustification ? 'required' : 'optional'),
    rules.requireTicket && field('Ticket system', ticketSystem),
    rules.requireTicket && field('Ticket number', ticketNumber),
    h('button', { type: 'submit' }, 'Submit'),
    outcome,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const minutes = Math.round(Number(duration.value) * 60);
    const body: RequestInput = {
      action: 'selfActivate',
      assignmentType: 'active',
      principalType: 'user',
      roleId: a.roleId,
      scope: a.scope,
      validateOnly: false,
      schedule: { expiration: { type: 'afterDuration', duration: `PT${minutes}M` } },
      ...(justification.value.trim() && { justification: justification.value.trim() }),
      ...(rules.requireTicket && { ticket: { system: ticketSystem.value.trim(), number: ticketNumber.value.trim() } }),
    };
    const ok = await attempt(outcome, async () => {
      const request = await ctx.api.send<Request>('POST', '/v1/requests', body);
      ctx.announce(`Activation of ${a.roleId}: ${request.status}`);
    });
    if (ok) done();
  });
  return form;
}

async function selfChange(
  ctx: PageContext,
  a: AssignmentView,
  action: 'selfExtend' | 'selfDeactivate',
  slot: HTMLElement,
) {
  await attempt(slot, async () => {
    const request = await ctx.api.send<Request>('POST', '/v1/requests', {
      action,
      assignmentType: 'active',
      roleId: a.roleId,
      scope: a.scope,
      ...(action === 'selfExtend' && { justification: 'extended from the console' }),
    });
    ctx.announce(`${action === 'selfExtend' ? 'Extension' : 'Deactivation'} of ${a.roleId}: ${request.status}`);
  });
}

function roleActions(ctx: PageContext, a: AssignmentView, formSlot: HTMLElement, refresh: () => Promise<void>): Node {
  const slot = h('span', { class: 'row-outcome' });
  if (a.assignmentType === 'eligible' && a.status === 'Active') {
    const open = async () => {
      await attempt(formSlot, async () => {
        const policy = await ctx.api.get<RolePolicy>(`/v1/roles/${encodeURIComponent(a.roleId)}/policy`);
        const form = activateForm(ctx, a, policy, () => {
          formSlot.replaceChildren();
          void refresh();
        });
        fill(formSlot, h('h2', {}, `Activate ${a.roleId} at ${a.scope}`), form);
        form.querySelector('input')?.focus();
      });
    };
    return h('span', {}, h('button', { type: 'button', onclick: open }, 'Activate'), slot);
  }
  if (a.assignmentType === 'active' && a.origin === 'activated' && a.status === 'Active') {
    const act = (action: 'selfExtend' | 'selfDeactivate') => async () => {
      await selfChange(ctx, a, action, slot);
      await refresh();
    };
    return h(
      'span',
      {},
      h('button', { type: 'button', onclick: act('selfExtend') }, 'Extend'),
      h('button', { type: 'button', onclick: act('selfDeactivate') }, 'Deactivate'),
      slot,
    );
  }
  return text('');
}

export const myRoles: Page = async (ctx) => {
  const list = h('div', { 'aria-live': 'polite' });
  const formSlot = h('div', { class: 'form-slot' });
  fill(ctx.main, list, formSlot);
  const refresh = async () => {
    const page = await ctx.api.get<ApiPage<AssignmentView>>('/v1/me/assignments?limit=200');
    const live = page.items.filter((a) => a.status === 'Active' || a.status === 'Scheduled');
    const rows = live.map((a) => [
      h('span', { class: 'role' }, a.roleId),
      text(a.scope),
      text(a.assignmentType === 'eligible' ? 'Eligible' : a.origin === 'activated' ? 'Activated' : 'Active'),
      text(a.status),
      text(timeLeft(a.endDateTime)),
      text(a.provisioning.status),
      roleActions(ctx, a, formSlot, refresh),
    ]);
    fill(
      list,
      rows.length
        ? table(
            'Your eligible and active roles',
            ['Role', 'Scope', 'Type', 'Status', 'Time left', 'Provisioning', 'Actions'],
            rows,
          )
        : h('p', {}, 'You have no eligible or active roles.'),
    );
  };
  await refresh();
  ctx.every(POLL_MS, refresh);
};

const requestLink = (r: Request): HTMLElement =>
  h('a', { href: `/requests/${r.id}`, 'data-nav': '' }, `${r.roleId} at ${r.scope}`);

export const myRequests: Page = async (ctx) => {
  const list = h('div');
  fill(ctx.main, list);
  const refresh = async () => {
    const page = await ctx.api.get<ApiPage<Request>>(
      `/v1/requests?limit=100&principalId=${encodeURIComponent(ctx.session.sub)}`,
    );
    const rows = page.items.map((r) => {
      const slot = h('span', { class: 'row-outcome' });
      const cancel = async () => {
        if (await attempt(slot, async () => void (await ctx.api.send('POST', `/v1/requests/${r.id}/cancel`)))) {
          ctx.announce('Request canceled');
          await refresh();
        }
      };
      return [
        requestLink(r),
        text(r.action),
        h('span', { class: `status status-${r.status}` }, r.status),
        text(approvalProgress(r)),
        text(formatDate(r.createdAt)),
        r.status === 'PendingApproval' && r.createdBy === ctx.session.sub
          ? h('span', {}, h('button', { type: 'button', onclick: cancel }, 'Cancel request'), slot)
          : text(''),
      ];
    });
    fill(
      list,
      rows.length
        ? table('Your requests, newest first', ['Request', 'Action', 'Status', 'Approval', 'Created', 'Actions'], rows)
        : h('p', {}, 'You have no requests.'),
    );
  };
  await refresh();
  ctx.every(POLL_MS, refresh);
};

export const requestDetail: Page = async (ctx, [id = '']) => {
  const body = h('div');
  const decide = h('div');
  fill(ctx.main, body, decide);
  let decideShown = false;
  const refresh = async () => {
    const r = await ctx.api.get<Request>(`/v1/requests/${encodeURIComponent(id)}`);
    const rows: [string, string][] = [
      ['Request', r.id],
      ['Status', r.status],
      ['Requester', r.principalId],
      ['Action', r.action],
      ['Role', r.roleId],
      ['Scope', r.scope],
      ['Justification', r.justification ?? '—'],
      ['Ticket', r.ticket ? `${r.ticket.system} ${r.ticket.number}` : '—'],
      ['Approval', approvalProgress(r)],
      ['Created', formatDate(r.createdAt)],
      ['Decided', formatDate(r.decidedAt)],
    ];
    fill(
      body,
      h('dl', { class: 'details' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      r.failureReason && h('p', { class: 'error' }, r.failureReason),
    );
    if (r.status !== 'PendingApproval') fill(decide);
    else if (!decideShown) {
      const waiting = await ctx.api.get<ApiPage<Request>>('/v1/approvals?limit=200');
      if (waiting.items.some((w) => w.id === r.id)) {
        decideShown = true;
        fill(decide, decisionForm(ctx, r, refresh));
      }
    }
  };
  await refresh();
  ctx.every(POLL_MS, refresh);
};
