/**
 * Policy as code (docs/policy-as-code.md): `plan`, `apply` and `export`. The work is in cli/policy/run.ts, loaded
 * when one of these runs, so the other commands do not pay for the file's schema (zod and the domain).
 */
import type { Command } from '../args.ts';

const FILE_OPTIONS = {
  file: { type: 'string', short: 'f', arg: 'FILE', description: 'the policy file (YAML or JSON), e.g. elevate.yaml' },
  prune: { type: 'boolean', description: 'remove managed resources missing from the file (never hand-made ones)' },
} as const;

const run = () => import('../policy/run.ts');

export const policyPlan: Command = {
  name: 'plan',
  summary: 'what `apply -f FILE` would change, and who gains or loses which access',
  usage: '-f FILE [--prune] [--detailed-exitcode]',
  description: `Reads the live service through the API and prints what \`elevate apply\` would do with FILE: the
groups, roles, targets, policies per scope, eligibility, access reviews and alert settings to create, change
(field by field) or remove, in the order apply makes them; then the effective access: each (principal, role, scope)
that gains or loses eligibility, or keeps it under other terms, with the approval chain and limits in force there.
The same file and service always give the same text. See docs/policy-as-code.md.`,
  options: {
    ...FILE_OPTIONS,
    'detailed-exitcode': { type: 'boolean', description: 'exit 0 when nothing changes, 2 when something does' },
  },
  args: { min: 0, max: 0 },
  examples: ['elevate plan -f elevate.yaml', 'elevate plan -f elevate.yaml --detailed-exitcode --json > plan.json'],
  run: async (ctx, values) => (await run()).runPlan(ctx, values),
};

export const policyApply: Command = {
  name: 'apply',
  summary: 'make the service match FILE (shows the plan and asks first, unless --yes)',
  usage: '-f FILE [--prune] [--yes]',
  description: `Shows the plan of FILE (see \`elevate plan\`), asks, and applies it through the ordinary API: every
change an audited call with an Idempotency-Key derived from the file's content and the change, so a re-run after a
failure half-way finishes the job and makes nothing twice. What apply makes is marked as managed by the file; --prune
removes only managed resources missing from the file, never hand-made ones. With governance.requireSecondAdmin on,
the changes it governs become pending changes for a second administrator (apply says which).`,
  options: { ...FILE_OPTIONS, yes: { type: 'boolean', short: 'y', description: 'do not ask' } },
  args: { min: 0, max: 0 },
  examples: ['elevate apply -f elevate.yaml', 'elevate apply -f elevate.yaml --prune --yes'],
  run: async (ctx, values) => (await run()).runApply(ctx, values),
};

export const policyExport: Command = {
  name: 'export',
  summary: 'the live service as a policy file (`plan` of it shows no changes)',
  usage: '[-o FILE]',
  description: `Writes the live roles (their targets and policies per scope), groups, eligibility, access reviews and
alert settings as an elevate.yaml: on stdout, or to FILE with -o. \`elevate plan\` of that file shows no changes.
Eligibility made by hand is exported too; applying the file does not mark it managed (see docs/policy-as-code.md).`,
  options: { output: { type: 'string', short: 'o', arg: 'FILE', description: 'write the file here' } },
  args: { min: 0, max: 0 },
  examples: ['elevate export -o elevate.yaml'],
  run: async (ctx, values) => (await run()).runExport(ctx, values),
};
