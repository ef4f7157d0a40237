/** Administrators' pages: "Roles" (create, list) and one role (its policy editor, with the approval stages). */
import type { Page as ApiPage } from '../api.ts';
import { attempt, type Page, type PageContext } from '../context.ts';
import { field, fill, h, table, text } from '../dom.ts';
import type { Role, RolePolicy } from '../types.ts';

export const adminRoles: Page = async (ctx) => {
  const list = h('div');
  const id = h('input', { name: 'id', required: true, pattern: '[a-z0-9][a-z0-9-]{1,62}' });
  const displayName = h('input', { name: 'displayName', required: true, maxlength: 256 });
  const description = h('input', { name: 'description', maxlength: 1000 });
  const privileged = h('input', { type: 'checkbox', name: 'privileged' });
  const outcome = h('div');
  const form = h(
    'form',
    { 'aria-labelledby': 'create-role' },
    h('h2', { id: 'create-role' }, 'Create a role'),
    field('Role id', id, 'lower-case letters, digits and dashes'),
    field('Display name', displayName),
    field('Description', description),
    h('div', { class: 'field check' }, h('label', {}, privileged, ' Privileged')),
    h('button', { type: 'submit' }, 'Submit'),
    outcome,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const ok = await attempt(outcome, async () => {
      await ctx.api.send('POST', '/v1/roles', {
        id: id.value.trim(),
        displayName: displayName.value.trim(),
        ...(description.value.trim() && { description: description.value.trim() }),
        privileged: privileged.checked,
      });
    });
    if (ok) ctx.navigate(`/admin/roles/${id.value.trim()}`);
  });
  fill(ctx.main, list, form);
  const page = await ctx.api.get<ApiPage<Role>>('/v1/roles?limit=200');
  fill(
    list,
    table(
      'Roles',
      ['Role', 'Display name', 'Privileged', 'Built in'],
      page.items.map((r) => [
        h('a', { href: `/admin/roles/${r.id}`, 'data-nav': '' }, r.id),
        text(r.displayName),
        text(r.privileged ? 'yes' : 'no'),
        text(r.builtIn ? 'yes' : 'no'),
      ]),
    ),
  );
};

type Stage = RolePolicy['activation']['approval']['stages'][number];

/** One approval stage's fields: approvers as `user:bob, group:ops`, the quorum and the timeout. */
function stageEditor(stage: Stage, index: number, remove: () => void): { el: HTMLElement; read(): Stage } {
  const approvers = h('input', { value: stage.approvers.map((a) => `${a.type}:${a.id}`).join(', '), required: true });
  const quorum = h('input', { type: 'number', min: 1, max: 10, value: stage.requiredApprovals, required: true });
  const timeout = h('input', { value: stage.timeout, required: true });
  const el = h(
    'fieldset',
    { class: 'stage' },
    h('legend', {}, `Stage ${index + 1}`),
    field(`Stage ${index + 1} approvers`, approvers, 'comma-separated, e.g. user:bob, group:ops'),
    field(`Stage ${index + 1} required approvals`, quorum),
    field(`Stage ${index + 1} timeout`, timeout, 'ISO 8601 duration, e.g. PT24H'),
    h('button', { type: 'button', onclick: remove }, `Remove stage ${index + 1}`),
  );
  const read = (): Stage => ({
    approvers: approvers.value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const [type, ...rest] = s.includes(':') ? s.split(':') : ['user', s];
        return { type: type as Stage['approvers'][number]['type'], id: rest.join(':') };
      }),
    requiredApprovals: Number(quorum.value),
    timeout: timeout.value.trim(),
  });
  return { el, read };
}

function policyEditor(ctx: PageContext, roleId: string, policy: RolePolicy): HTMLElement {
  const a = policy.activation;
  const maxDuration = h('input', { value: a.maxDuration, required: true });
  const check = (label: string, on: boolean) => {
    const box = h('input', { type: 'checkbox', checked: on });
    return { box, el: h('div', { class: 'field check' }, h('label', {}, box, ` ${label}`)) };
  };
  const mfa = check('Require MFA', a.requireMfa);
  const justification = check('Require justification', a.requireJustification);
  const ticket = check('Require ticket', a.requireTicket);
  const approval = check('Require approval', a.approval.required);
  const maxExtensions = h('input', { type: 'number', min: 0, max: 100, value: a.maxExtensions });
  const stagesEl = h('div');
  let stages: Stage[] = a.approval.stages;
  let editors: ReturnType<typeof stageEditor>[] = [];
  const drawStages = () => {
    editors = stages.map((s, i) =>
      stageEditor(s, i, () => {
        stages = editors.map((e) => e.read()).filter((_, j) => j !== i);
        drawStages();
      }),
    );
    fill(stagesEl, ...editors.map((e) => e.el));
  };
  drawStages();
  const addStage = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        if (editors.length >= 3) return;
        stages = [...editors.map((e) => e.read()), { approvers: [], requiredApprovals: 1, timeout: 'PT24H' }];
        drawStages();
      },
    },
    'Add stage',
  );
  const outcome = h('div');
  const form = h(
    'form',
    { 'aria-labelledby': 'policy-heading' },
    h('h2', { id: 'policy-heading' }, 'Activation policy'),
    field('Maximum duration', maxDuration, 'ISO 8601 duration, e.g. PT8H'),
    mfa.el,
    justification.el,
    ticket.el,
    field('Maximum extensions', maxExtensions),
    approval.el,
    stagesEl,
    addStage,
    h('button', { type: 'submit' }, 'Submit'),
    outcome,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const next: RolePolicy = {
      ...policy,
      activation: {
        ...a,
        maxDuration: maxDuration.value.trim(),
        requireMfa: mfa.box.checked,
        requireJustification: justification.box.checked,
        requireTicket: ticket.box.checked,
        maxExtensions: Number(maxExtensions.value),
        approval: { required: approval.box.checked, stages: editors.map((e) => e.read()) },
      },
    };
    if (await attempt(outcome, async () => void (await ctx.api.send('PUT', `/v1/roles/${roleId}/policy`, next)))) {
      ctx.announce('Policy saved');
      outcome.replaceChildren(h('p', { class: 'ok' }, 'Policy saved.'));
    }
  });
  return form;
}

export const roleDetail: Page = async (ctx, [roleId = '']) => {
  const [role, policy] = await Promise.all([
    ctx.api.get<Role>(`/v1/roles/${roleId}`),
    ctx.api.get<RolePolicy>(`/v1/roles/${roleId}/policy`),
  ]);
  const outcome = h('div');
  const remove = async () => {
    if (await attempt(outcome, async () => void (await ctx.api.send('DELETE', `/v1/roles/${roleId}`)))) {
      ctx.navigate('/admin/roles');
    }
  };
  fill(
    ctx.main,
    h('p', {}, `${role.displayName}${role.description ? `: ${role.description}` : ''}`),
    policyEditor(ctx, roleId, policy),
    !role.builtIn && h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete role'),
    outcome,
  );
};
