/**
 * reviews, review decide: access review decisions waiting for the caller (GET /v1/me/reviews) and
 * deciding one (POST /v1/access-reviews/{id}/instances/{instanceId}/decisions/{decisionId}).
 */
import type { Command, Context } from '../args.ts';
import { str } from '../args.ts';
import { enc, type Page } from '../client.ts';
import { CliError, EXIT, UsageError } from '../errors.ts';
import { paint, status, table } from '../output.ts';
import type { ReviewDecision } from '../types.ts';

async function allMyReviews(ctx: Context): Promise<ReviewDecision[]> {
  const items: ReviewDecision[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ctx.client().get<Page<ReviewDecision>>('/v1/me/reviews', { limit: 200, nextToken });
    items.push(...page.items);
    nextToken = page.nextToken ?? undefined;
  } while (nextToken && items.length < 5000);
  return items;
}

export const reviews: Command = {
  name: 'reviews',
  summary: 'access review decisions waiting for you',
  usage: '',
  args: { min: 0, max: 0 },
  async run(ctx) {
    const items = await allMyReviews(ctx);
    ctx.out.data({ items, nextToken: null });
    if (items.length === 0) {
      ctx.out.line('No access reviews wait for you.');
      return EXIT.ok;
    }
    const c = ctx.out.color;
    const rows = items.map((d) => [
      d.id,
      d.reviewId,
      d.principalId,
      d.roleId,
      d.scope,
      d.assignmentType,
      d.recommendation
        ? `${status(c, d.recommendation)}${d.recommendationReason ? ` (${d.recommendationReason})` : ''}`
        : '-',
      d.decision,
    ]);
    for (const l of table(
      c,
      ['DECISION', 'REVIEW', 'PRINCIPAL', 'ROLE', 'SCOPE', 'TYPE', 'RECOMMENDED', 'DECIDED'],
      rows,
    )) {
      ctx.out.line(l);
    }
    ctx.out.line(paint(c, 'dim', 'Decide with: elevate review decide DECISION approve|deny|dontknow --reason R'));
    return EXIT.ok;
  },
};

const DECISIONS: Record<string, string> = {
  approve: 'Approve',
  deny: 'Deny',
  dontknow: 'DontKnow',
  "don't-know": 'DontKnow',
};

export const reviewDecide: Command = {
  name: 'review decide',
  summary: 'decide one access review item: approve, deny or dontknow',
  usage: 'DECISION_ID approve|deny|dontknow [--reason R] [--review ID --instance ID]',
  description: `Record your decision on one item of an access review. The review and instance ids are found
in \`elevate reviews\` unless you give them.`,
  options: {
    reason: { type: 'string', short: 'r', arg: 'TEXT', description: 'justification (reviews may require one)' },
    review: { type: 'string', arg: 'ID', description: 'the access review id' },
    instance: { type: 'string', arg: 'ID', description: 'the review instance id' },
  },
  args: { min: 2, max: 2 },
  async run(ctx, v, [decisionId, word]) {
    const decision = DECISIONS[(word as string).toLowerCase().replace(/_/g, '')];
    if (!decision) throw new UsageError(`the decision is approve, deny or dontknow (got '${word}')`, 'review decide');
    let reviewId = str(v.review);
    let instanceId = str(v.instance);
    if (!reviewId || !instanceId) {
      const found = (await allMyReviews(ctx)).find((d) => d.id === decisionId);
      if (!found) throw new CliError(`no review decision '${decisionId}' waits for you (see \`elevate reviews\`)`);
      reviewId ??= found.reviewId;
      instanceId ??= found.instanceId;
      if (!reviewId || !instanceId) throw new UsageError('pass --review ID and --instance ID', 'review decide');
    }
    const reason = str(v.reason);
    const res = await ctx
      .client()
      .post<ReviewDecision>(
        `/v1/access-reviews/${enc(reviewId)}/instances/${enc(instanceId)}/decisions/${enc(decisionId as string)}`,
        { decision, ...(reason !== undefined && { justification: reason }) },
      );
    ctx.out.data(res.body);
    const d = res.body;
    ctx.out.line(`${decision} recorded for ${d?.principalId ?? '?'}: ${d?.roleId ?? '?'} at ${d?.scope ?? '?'}.`);
    return EXIT.ok;
  },
};
