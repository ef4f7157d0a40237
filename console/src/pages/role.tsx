/**
 * One role (/admin/roles/{id}, administrators): its details; its activation policy at `/` or at any scope with a
 * policy of its own (issue 15: the policy in force at a scope is the most specific one covering it), with up to three
 * approval stages and the approver's MFA; its targets in IAM Identity Center (provisioning.md); delete.
 */
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Checkbox from '@cloudscape-design/components/checkbox';
import Container from '@cloudscape-design/components/container';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Spinner from '@cloudscape-design/components/spinner';
import Table from '@cloudscape-design/components/table';
import { useState } from 'react';
import type { Page } from '../api.ts';
import { useConsole, usePolled } from '../app/context.tsx';
import type { PageProps } from '../app/routes.ts';
import { ErrorText, useAction } from '../components/outcome.tsx';
import { formatDate } from '../format.ts';
import type { Role, RolePolicy, Target } from '../types.ts';

type Stage = RolePolicy['activation']['approval']['stages'][number];
interface StageText {
  approvers: string;
  requiredApprovals: string;
  timeout: string;
}
interface ScopedPolicy {
  scope: string;
  policy: RolePolicy;
  updatedAt: string;
}

const MAX_STAGES = 3;
const policyPath = (roleId: string, scope: string) =>
  `/v1/roles/${encodeURIComponent(roleId)}/policy${scope === '/' ? '' : `?scope=${encodeURIComponent(scope)}`}`;

const stageText = (s: Stage): StageText => ({
  approvers: s.approvers.map((a) => `${a.type}:${a.id}`).join(', '),
  requiredApprovals: String(s.requiredApprovals),
  timeout: s.timeout,
});

/** `user:bob, group:ops` (a bare id is a user) as approvers; the API checks each. */
const readStage = (s: StageText): Stage => ({
  approvers: s.approvers
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((x) => {
      const [type, ...rest] = x.includes(':') ? x.split(':') : ['user', x];
      return { type: type as Stage['approvers'][number]['type'], id: rest.join(':') };
    }),
  requiredApprovals: Number(s.requiredApprovals),
  timeout: s.timeout.trim(),
});

function PolicyEditor({
  roleId,
  scope,
  policy,
  saved,
}: {
  roleId: string;
  scope: string;
  policy: RolePolicy;
  saved: () => void;
}) {
  const { api, announce } = useConsole();
  const a = policy.activation;
  const [maxDuration, setMaxDuration] = useState(a.maxDuration);
  const [requireMfa, setRequireMfa] = useState(a.requireMfa);
  const [requireJustification, setRequireJustification] = useState(a.requireJustification);
  const [requireTicket, setRequireTicket] = useState(a.requireTicket);
  const [maxExtensions, setMaxExtensions] = useState(String(a.maxExtensions));
  const [approvalRequired, setApprovalRequired] = useState(a.approval.required);
  const [approverMfa, setApproverMfa] = useState(a.approval.requireApproverMfa === true);
  const [stages, setStages] = useState<StageText[]>(a.approval.stages.map(stageText));
  const [done, setDone] = useState(false);
  const action = useAction();

  const setStage = (i: number, patch: Partial<StageText>) =>
    setStages((all) => all.map((s, j) => (j === i ? { ...s, ...patch } : s)));
  const submit = async () => {
    setDone(false);
    const next: RolePolicy = {
      ...policy,
      activation: {
        ...a,
        maxDuration: maxDuration.trim(),
        requireMfa,
        requireJustification,
        requireTicket,
        maxExtensions: Number(maxExtensions),
        approval: {
          required: approvalRequired,
          stages: stages.map(readStage),
          ...(approverMfa || a.approval.requireApproverMfa !== undefined ? { requireApproverMfa: approverMfa } : {}),
        },
      },
    };
    const ok = await action.run(async () => {
      await api.send('PUT', policyPath(roleId, scope), next);
      announce('Policy saved');
    });
    setDone(ok);
    if (ok) saved();
  };

  return (
    <form
      aria-labelledby="policy-heading"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <Form
        header={
          <Header
            variant="h2"
            description={
              scope === '/'
                ? 'The base policy: in force at every scope without a policy of its own.'
                : `The policy at ${scope}: in force there and below it.`
            }
          >
            <span id="policy-heading">Activation policy</span>
          </Header>
        }
        actions={
          <Button variant="primary" formAction="submit" loading={action.busy}>
            Submit
          </Button>
        }
        errorText={action.error !== undefined ? <ErrorText error={action.error} /> : undefined}
      >
        <Container>
          <SpaceBetween size="m">
            <Box variant="p">{`Scope: ${scope}`}</Box>
            <FormField label="Maximum duration" controlId="policy-max-duration" description="ISO 8601, e.g. PT8H">
              <Input
                controlId="policy-max-duration"
                value={maxDuration}
                onChange={({ detail }) => setMaxDuration(detail.value)}
              />
            </FormField>
            <Checkbox checked={requireMfa} onChange={({ detail }) => setRequireMfa(detail.checked)}>
              Require MFA
            </Checkbox>
            <Checkbox checked={requireJustification} onChange={({ detail }) => setRequireJustification(detail.checked)}>
              Require justification
            </Checkbox>
            <Checkbox checked={requireTicket} onChange={({ detail }) => setRequireTicket(detail.checked)}>
              Require ticket
            </Checkbox>
            <FormField label="Maximum extensions" controlId="policy-max-extensions">
              <Input
                controlId="policy-max-extensions"
                type="number"
                value={maxExtensions}
                onChange={({ detail }) => setMaxExtensions(detail.value)}
              />
            </FormField>
            <Checkbox checked={approvalRequired} onChange={({ detail }) => setApprovalRequired(detail.checked)}>
              Require approval
            </Checkbox>
            <Checkbox
              checked={approverMfa}
              onChange={({ detail }) => setApproverMfa(detail.checked)}
              description="An approver decides only with MFA in their sign-in; the console asks for it."
            >
              Approvers sign in with MFA
            </Checkbox>
            {stages.map((s, i) => {
              const n = i + 1;
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: a stage is its position (Stage 1, 2, 3)
                <fieldset key={i} className="stage">
                  <legend>{`Stage ${n}`}</legend>
                  <SpaceBetween size="s">
                    <FormField
                      label={`Stage ${n} approvers`}
                      controlId={`stage-${n}-approvers`}
                      description="comma-separated, e.g. user:bob, group:ops"
                    >
                      <Input
                        controlId={`stage-${n}-approvers`}
                        value={s.approvers}
                        onChange={({ detail }) => setStage(i, { approvers: detail.value })}
                      />
                    </FormField>
                    <FormField label={`Stage ${n} required approvals`} controlId={`stage-${n}-quorum`}>
                      <Input
                        controlId={`stage-${n}-quorum`}
                        type="number"
                        value={s.requiredApprovals}
                        onChange={({ detail }) => setStage(i, { requiredApprovals: detail.value })}
                      />
                    </FormField>
                    <FormField
                      label={`Stage ${n} timeout`}
                      controlId={`stage-${n}-timeout`}
                      description="ISO 8601, e.g. PT24H"
                    >
                      <Input
                        controlId={`stage-${n}-timeout`}
                        value={s.timeout}
                        onChange={({ detail }) => setStage(i, { timeout: detail.value })}
                      />
                    </FormField>
                    <Button formAction="none" onClick={() => setStages((all) => all.filter((_, j) => j !== i))}>
                      {`Remove stage ${n}`}
                    </Button>
                  </SpaceBetween>
                </fieldset>
              );
            })}
            <Button
              formAction="none"
              disabled={stages.length >= MAX_STAGES}
              onClick={() =>
                setStages((all) =>
                  all.length >= MAX_STAGES
                    ? all
                    : [...all, { approvers: '', requiredApprovals: '1', timeout: 'PT24H' }],
                )
              }
            >
              Add stage
            </Button>
            {done && <Box variant="p">Policy saved.</Box>}
          </SpaceBetween>
        </Container>
      </Form>
    </form>
  );
}

/** The scopes with a policy of their own: open one in the editor, remove one (never `/`), or start one. */
function ScopedPolicies({
  roleId,
  policies,
  editing,
  edit,
  changed,
}: {
  roleId: string;
  policies: ScopedPolicy[];
  editing: string;
  edit: (scope: string, policy: RolePolicy) => void;
  changed: () => Promise<void>;
}) {
  const { api, announce } = useConsole();
  const [scope, setScope] = useState('');
  const action = useAction();
  const add = () =>
    void action.run(async () => {
      const wanted = scope.trim();
      // A new scope's policy starts as the one in force there now.
      const inForce = await api.get<RolePolicy>(policyPath(roleId, wanted));
      edit(wanted, inForce);
    });
  const remove = (s: string) =>
    void action.run(async () => {
      await api.send('DELETE', policyPath(roleId, s));
      announce(`Policy at ${s} removed`);
      if (editing === s) {
        const base = policies.find((p) => p.scope === '/');
        if (base) edit('/', base.policy);
      }
      await changed();
    });
  return (
    <Container header={<Header variant="h2">Policies per scope</Header>}>
      <SpaceBetween size="m">
        <Table
          variant="embedded"
          ariaLabels={{ tableLabel: 'Policies per scope' }}
          items={policies}
          trackBy="scope"
          empty={<Box variant="p">Only the base policy.</Box>}
          columnDefinitions={[
            { id: 'scope', header: 'Scope', cell: (p) => p.scope, isRowHeader: true },
            { id: 'updated', header: 'Updated', cell: (p) => formatDate(p.updatedAt) },
            {
              id: 'actions',
              header: 'Actions',
              cell: (p) => (
                <SpaceBetween direction="horizontal" size="xs">
                  <Button
                    ariaLabel={`Edit the policy at ${p.scope}`}
                    disabled={p.scope === editing}
                    onClick={() => edit(p.scope, p.policy)}
                  >
                    Edit
                  </Button>
                  {p.scope !== '/' && (
                    <Button ariaLabel={`Remove the policy at ${p.scope}`} onClick={() => remove(p.scope)}>
                      Remove
                    </Button>
                  )}
                </SpaceBetween>
              ),
            },
          ]}
        />
        <form
          aria-label="A policy at another scope"
          onSubmit={(event) => {
            event.preventDefault();
            add();
          }}
        >
          <SpaceBetween size="s">
            <FormField
              label="Scope"
              controlId="policy-scope"
              description="e.g. /accounts/111111111111 or /ous/ou-ab12-cdef3456: that scope and below it"
            >
              <Input controlId="policy-scope" value={scope} onChange={({ detail }) => setScope(detail.value)} />
            </FormField>
            <Button formAction="submit" loading={action.busy}>
              Edit a policy at this scope
            </Button>
          </SpaceBetween>
        </form>
        <ErrorText error={action.error} />
      </SpaceBetween>
    </Container>
  );
}

/** Where the role's grants are delivered in IAM Identity Center: permission sets and groups (at most 10). */
function TargetsEditor({ roleId, initial }: { roleId: string; initial: Target[] }) {
  const { api, announce } = useConsole();
  const [targets, setTargets] = useState<Target[]>(initial);
  const [arn, setArn] = useState('');
  const [groupId, setGroupId] = useState('');
  const [done, setDone] = useState(false);
  const action = useAction();
  const keyOf = (t: Target) =>
    t.type === 'identityCenterAccountAssignment' ? `Permission set ${t.permissionSetArn}` : `Group ${t.groupId}`;
  const save = async () => {
    setDone(false);
    const ok = await action.run(async () => {
      const stored = await api.send<{ targets: Target[] }>('PUT', `/v1/roles/${encodeURIComponent(roleId)}/targets`, {
        targets,
      });
      setTargets(stored.targets);
      announce('Targets saved');
    });
    setDone(ok);
  };
  return (
    <Container
      header={
        <Header
          variant="h2"
          description="Where a grant of this role is delivered in AWS IAM Identity Center; a change applies to grants made after it."
          actions={
            <Button onClick={() => void save()} loading={action.busy}>
              Save targets
            </Button>
          }
        >
          Targets
        </Header>
      }
    >
      <SpaceBetween size="m">
        <Table
          variant="embedded"
          ariaLabels={{ tableLabel: 'Targets' }}
          items={targets}
          trackBy={keyOf}
          empty={<Box variant="p">No targets: grants are recorded in Elevate only.</Box>}
          columnDefinitions={[
            { id: 'target', header: 'Target', cell: keyOf, isRowHeader: true },
            {
              id: 'actions',
              header: 'Actions',
              cell: (t) => (
                <Button
                  ariaLabel={`Remove ${keyOf(t)}`}
                  onClick={() => setTargets((all) => all.filter((x) => keyOf(x) !== keyOf(t)))}
                >
                  Remove
                </Button>
              ),
            },
          ]}
        />
        <SpaceBetween direction="horizontal" size="s" alignItems="end">
          <FormField label="Permission set ARN" controlId="target-permission-set">
            <Input controlId="target-permission-set" value={arn} onChange={({ detail }) => setArn(detail.value)} />
          </FormField>
          <Button
            disabled={!arn.trim()}
            onClick={() => {
              setTargets((all) => [...all, { type: 'identityCenterAccountAssignment', permissionSetArn: arn.trim() }]);
              setArn('');
            }}
          >
            Add permission set
          </Button>
        </SpaceBetween>
        <SpaceBetween direction="horizontal" size="s" alignItems="end">
          <FormField label="Identity Center group id" controlId="target-group">
            <Input controlId="target-group" value={groupId} onChange={({ detail }) => setGroupId(detail.value)} />
          </FormField>
          <Button
            disabled={!groupId.trim()}
            onClick={() => {
              setTargets((all) => [...all, { type: 'identityCenterGroupMembership', groupId: groupId.trim() }]);
              setGroupId('');
            }}
          >
            Add group
          </Button>
        </SpaceBetween>
        {done && <Box variant="p">Targets saved.</Box>}
        <ErrorText error={action.error} />
      </SpaceBetween>
    </Container>
  );
}

export default function RoleEditor({ params: [rawId = ''] }: PageProps) {
  const roleId = decodeURIComponent(rawId);
  const { api, navigate, announce } = useConsole();
  // Not polled: an editor is not replaced under the administrator's hands; it reads again after each change.
  const loaded = usePolled(async () => {
    const path = `/v1/roles/${encodeURIComponent(roleId)}`;
    const [role, policies, targets] = await Promise.all([
      api.get<Role>(path),
      api.get<Page<ScopedPolicy>>(`${path}/policies`),
      api.get<{ targets: Target[] }>(`${path}/targets`),
    ]);
    return { role, policies: policies.items, targets: targets.targets };
  }, false);
  const [editing, setEditing] = useState<{ scope: string; policy: RolePolicy; n: number }>();
  const removal = useAction();

  if (!loaded.data) return loaded.error ? <ErrorText error={loaded.error} /> : <Spinner size="large" />;
  const { role, policies, targets } = loaded.data;
  const base = policies.find((p) => p.scope === '/');
  const current = editing ?? (base && { scope: '/', policy: base.policy, n: 0 });
  const remove = async () => {
    const ok = await removal.run(async () => {
      await api.send('DELETE', `/v1/roles/${encodeURIComponent(roleId)}`);
      announce(`Role ${roleId} deleted`);
    });
    if (ok) navigate('/admin/roles');
  };

  return (
    <SpaceBetween size="l">
      <Container
        header={
          <Header
            variant="h2"
            actions={
              !role.builtIn && (
                <Button onClick={() => void remove()} loading={removal.busy}>
                  Delete role
                </Button>
              )
            }
          >
            {role.id}
          </Header>
        }
      >
        <SpaceBetween size="xs">
          <Box variant="p">{`${role.displayName}${role.description ? `: ${role.description}` : ''}`}</Box>
          <Box variant="p">{`${role.privileged ? 'Privileged' : 'Not privileged'}${role.builtIn ? ', built in' : ''}`}</Box>
          <ErrorText error={removal.error} />
        </SpaceBetween>
      </Container>
      {current && (
        <PolicyEditor
          key={`${current.scope} ${current.n}`}
          roleId={roleId}
          scope={current.scope}
          policy={current.policy}
          saved={() => void loaded.reload()}
        />
      )}
      <ScopedPolicies
        roleId={roleId}
        policies={policies}
        editing={current?.scope ?? '/'}
        edit={(scope, policy) => setEditing({ scope, policy, n: (editing?.n ?? 0) + 1 })}
        changed={loaded.reload}
      />
      <TargetsEditor roleId={roleId} initial={targets} />
    </SpaceBetween>
  );
}
