/** scopes: the AWS organization as scopes (GET /v1/scopes), what `--scope` and eligibilities can name. */
import type { Command, Context } from '../args.ts';
import type { Page } from '../client.ts';
import { EXIT } from '../errors.ts';
import { paint, table } from '../output.ts';
import type { ScopeItem } from '../types.ts';

/** At most this many scopes are read (pages of 200): an organization has at most a few thousand accounts. */
const MAX_SCOPES = 20_000;

async function allScopes(ctx: Context): Promise<ScopeItem[]> {
  const items: ScopeItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ctx.client().get<Page<ScopeItem>>('/v1/scopes', { limit: 200, nextToken });
    items.push(...page.items);
    nextToken = page.nextToken ?? undefined;
  } while (nextToken && items.length < MAX_SCOPES);
  return items;
}

const TYPES: Record<ScopeItem['type'], string> = { root: 'root', organizationalUnit: 'OU', account: 'account' };

export const scopes: Command = {
  name: 'scopes',
  summary: 'the AWS organization as scopes: the root, its OUs and accounts (/ous/<id> covers the accounts under it)',
  usage: '',
  description: `Lists the scopes of the AWS organization as Elevate last synced it (the organization-sync job, hourly),
in scope order. An eligibility at /ous/<ou-id> covers every account under that OU; activate one of its accounts
with --scope /accounts/<id>.`,
  args: { min: 0, max: 0 },
  async run(ctx) {
    const items = await allScopes(ctx);
    ctx.out.data({ items, nextToken: null });
    if (ctx.out.json) return EXIT.ok;
    if (items.length === 0) {
      ctx.out.line('No organization is synced: scopes are paths such as / or /accounts/<id>.');
      return EXIT.ok;
    }
    const c = ctx.out.color;
    const rows = items.map((s) => [s.scope, TYPES[s.type] ?? s.type, s.name, s.parentScope ?? '-']);
    for (const l of table(c, ['SCOPE', 'TYPE', 'NAME', 'PARENT'], rows)) ctx.out.line(l);
    ctx.out.line(paint(c, 'dim', 'As synced from AWS Organizations (hourly).'));
    return EXIT.ok;
  },
};
