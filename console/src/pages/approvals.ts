/** Approvers' and reviewers' pages: "Approvals" (approve or deny with a justification) and "Access reviews". */
import type { Page as ApiPage } from '../api.ts';
import { attempt, formatDate, type Page, type PageContext } from '../context.ts';
import { field, fill, h, table, text } from '../dom.ts';
import type { Request, ReviewDecision } from '../types.ts';

const POLL_MS = 3000;

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

/** Approve / Deny with a justification, for one request waiting for the caller. */
export function decisionForm(ctx: PageContext, r: Request, after: () => Promise<void>): HTMLElement {
  const justification = h('textarea', { name: 'justification', rows: 2, maxlength: 1000 });
  const outcome = h('div', { class: 'outcome' });
  const decide = (verb: 'approve' | 'deny') => async () => {
    const ok = await attempt(outcome, async () => {
      const decided = await ctx.api.send<Request>('POST', `/v1/requests/${r.id}/${verb}`, {
        ...(justification.value.trim() && { justification: justification.value.trim() }),
      });
      ctx.announce(
        `${verb === 'approve' ? 'Approved' : 'Denied'}: ${r.roleId} for ${r.principalId} (${decided.status})`,
      );
    });
    if (ok) await after();
  };
  return h(
    'form',
    { class: 'decision', 'aria-label': `Decide on ${r.principalId}'s request for ${r.roleId}` },
    field('Justification', justification),
    h('button', { type: 'button', onclick: decide('approve') }, 'Approve'),
    h('button', { type: 'button', class: 'danger', onclick: decide('deny') }, 'Deny'),
    outcome,
  );
}

function requestCard(ctx: PageContext, r: Request, after: () => Promise<void>): HTMLElement {
  const headingId = `req-${r.id}`;
  const asked = r.schedule.expiration.duration ?? r.schedule.expiration.endDateTime ?? 'no end';
  const facts: [string, string][] = [
    ['Requester', r.principalId],
    ['Role', r.roleId],
    ['Scope', r.scope],
    ['Justification', r.justification ?? '—'],
    ['Ticket', r.ticket ? `${r.ticket.system} ${r.ticket.number}` : '—'],
    ['Duration', asked],
    ['Progress', approvalProgress(r)],
    ['Asked at', formatDate(r.createdAt)],
  ];
  return h(
    'section',
    { class: 'card', 'aria-labelledby': headingId },
    h(
      'h2',
      { id: headingId },
      h('a', { href: `/requests/${r.id}`, 'data-nav': '' }, `${r.principalId}: ${r.roleId} at ${r.scope}`),
    ),
    h('dl', { class: 'details' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    decisionForm(ctx, r, after),
  );
}

export const approvals: Page = async (ctx) => {
  const list = h('div');
  fill(ctx.main, list);
  // A card being filled in is not replaced under the approver's hands: only new and gone requests change the list.
  const shown = new Map<string, HTMLElement>();
  const refresh = async () => {
    const page = await ctx.api.get<ApiPage<Request>>('/v1/approvals?limit=200');
    const ids = new Set(page.items.map((r) => r.id));
    for (const [id, card] of shown) {
      if (ids.has(id)) continue;
      card.remove();
      shown.delete(id);
    }
    for (const r of page.items) {
      if (shown.has(r.id)) continue;
      const card = requestCard(ctx, r, refresh);
      shown.set(r.id, card);
      list.append(card);
    }
    const empty = list.querySelector('.empty');
    if (shown.size === 0 && !empty) list.append(h('p', { class: 'empty' }, 'Nothing is waiting for your approval.'));
    if (shown.size > 0) empty?.remove();
  };
  await refresh();
  ctx.every(POLL_MS, refresh);
};

export const reviews: Page = async (ctx) => {
  const list = h('div');
  const outcome = h('div');
  fill(ctx.main, outcome, list);
  const decide = async (d: ReviewDecision, decision: 'Approve' | 'Deny') => {
    await ctx.api.send('POST', `/v1/access-reviews/${d.reviewId}/instances/${d.instanceId}/decisions/${d.id}`, {
      decision,
    });
  };
  const refresh = async () => {
    const page = await ctx.api.get<ApiPage<ReviewDecision>>('/v1/me/reviews?limit=200');
    const waiting = page.items.filter((d) => d.decision === 'NotReviewed');
    const rows = waiting.map((d) => [
      text(d.principalId),
      text(d.roleId),
      text(d.scope),
      text(`${d.recommendation}: ${d.recommendationReason}`),
      text(formatDate(d.endDateTime)),
      h(
        'span',
        {},
        h('button', { type: 'button', onclick: () => act(() => decide(d, 'Approve')) }, 'Approve'),
        h('button', { type: 'button', onclick: () => act(() => decide(d, 'Deny')) }, 'Deny'),
      ),
    ]);
    const acceptAll = async () => {
      for (const d of waiting) await decide(d, d.recommendation);
    };
    fill(
      list,
      rows.length
        ? [
            h('button', { type: 'button', onclick: () => act(acceptAll) }, 'Accept all recommendations'),
            table('Access to review', ['Principal', 'Role', 'Scope', 'Recommendation', 'Due', 'Decision'], rows),
          ]
        : h('p', {}, 'No access is waiting for your review.'),
    );
  };
  const act = async (work: () => Promise<void>) => {
    if (await attempt(outcome, work)) ctx.announce('Review decision saved');
    await refresh();
  };
  await refresh();
  ctx.every(POLL_MS * 2, refresh);
};
