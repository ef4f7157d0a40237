/** A plan in words: the same plan always reads the same (a reviewer reads it in a pull request). */
import { canonical } from './format.ts';
import type { AccessTerms, Plan, PlannedChange } from './plan.ts';

const SIGN: Record<PlannedChange['action'], string> = { create: '+', update: '~', delete: '-' };
/** A value in words: JSON with sorted keys (the API's key order never shows). */
const value = (v: unknown) => (v === undefined ? '(none)' : canonical(v));

export const counts = (plan: Plan) => ({
  create: plan.changes.filter((c) => c.action === 'create').length,
  update: plan.changes.filter((c) => c.action === 'update').length,
  delete: plan.changes.filter((c) => c.action === 'delete').length,
});

const termLines = (t: AccessTerms, indent: string, label = '') => [
  `${indent}${label}policy of ${t.policyScope}: ${t.approval}`,
  `${indent}${' '.repeat(label.length)}${t.limits}`,
];

export function renderPlan(plan: Plan): string[] {
  const lines: string[] = [];
  if (plan.changes.length === 0) lines.push('No changes: the service matches the file.');
  else {
    lines.push(`Changes (${plan.changes.length}), in the order apply makes them:`);
    for (const c of plan.changes) {
      lines.push(
        `  ${SIGN[c.action]} ${c.action} ${c.subject}${c.pendingChange ? ` (already pending as change ${c.pendingChange})` : ''}`,
      );
      for (const f of c.fields) {
        lines.push(
          c.action === 'create'
            ? `      ${f.field}: ${value(f.to)}`
            : `      ${f.field}: ${value(f.from)} -> ${value(f.to)}`,
        );
      }
    }
  }
  if (plan.kept.length > 0) {
    lines.push('', 'Managed but not in the file (kept; --prune removes them):');
    for (const k of plan.kept) lines.push(`  ${k}`);
  }
  if (plan.warnings.length > 0) {
    lines.push('', 'Warnings:');
    for (const w of plan.warnings) lines.push(`  ! ${w}`);
  }
  lines.push('', 'Effective access:');
  if (plan.access.length === 0) lines.push('  no one gains or loses eligibility, and no terms change.');
  for (const a of plan.access) {
    if (a.effect === 'changes' && a.before) {
      lines.push(`  ~ ${a.principal} keeps ${a.roleId} at ${a.scope} under other terms`);
      lines.push(...termLines(a.before, '      ', 'was: '));
      lines.push(...termLines(a.terms, '      ', 'now: '));
    } else {
      lines.push(`  ${a.effect === 'gains' ? '+' : '-'} ${a.principal} ${a.effect} ${a.roleId} at ${a.scope}`);
      lines.push(...termLines(a.terms, '      '));
    }
  }
  const n = counts(plan);
  lines.push('', `Plan: ${n.create} to create, ${n.update} to change, ${n.delete} to remove.`);
  return lines;
}
