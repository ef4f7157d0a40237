/** "My roles": eligible and active assignments with time left and provisioning state; Activate, Extend, Deactivate. */
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Container from '@cloudscape-design/components/container';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import Textarea from '@cloudscape-design/components/textarea';
import { useState } from 'react';
import type { Page } from '../api.ts';
import { useConsole, usePolled } from '../app/context.tsx';
import { ErrorText, useAction } from '../components/outcome.tsx';
import { durationHours, timeLeft } from '../format.ts';
import type { AssignmentView, Request, RequestInput, RolePolicy } from '../types.ts';

const typeOf = (a: AssignmentView): string =>
  a.assignmentType === 'eligible' ? 'Eligible' : a.origin === 'activated' ? 'Activated' : 'Active';

/** The activation form: exactly what the policy in force asks for. */
function ActivateForm({
  assignment: a,
  policy,
  done,
}: {
  assignment: AssignmentView;
  policy: RolePolicy;
  done: () => void;
}) {
  const { api, session, announce } = useConsole();
  const rules = policy.activation;
  const maxHours = durationHours(rules.maxDuration);
  const [duration, setDuration] = useState(maxHours === undefined ? '1' : String(maxHours));
  const [justification, setJustification] = useState('');
  const [ticketSystem, setTicketSystem] = useState('');
  const [ticketNumber, setTicketNumber] = useState('');
  const action = useAction();
  const notes = [
    rules.requireMfa && !session.mfa && 'This role needs MFA: sign out and sign in again with MFA.',
    rules.approval.required && `Needs approval (${rules.approval.stages.length} stage(s)).`,
  ].filter((x): x is string => typeof x === 'string');

  const submit = async () => {
    const minutes = Math.round(Number(duration) * 60);
    const body: RequestInput = {
      action: 'selfActivate',
      assignmentType: 'active',
      principalType: 'user',
      roleId: a.roleId,
      scope: a.scope,
      validateOnly: false,
      schedule: { expiration: { type: 'afterDuration', duration: `PT${minutes}M` } },
      ...(justification.trim() && { justification: justification.trim() }),
      ...(rules.requireTicket && { ticket: { system: ticketSystem.trim(), number: ticketNumber.trim() } }),
    };
    const ok = await action.run(async () => {
      const request = await api.send<Request>('POST', '/v1/requests', body);
      announce(`Activation of ${a.roleId}: ${request.status}`);
    });
    if (ok) done();
  };

  return (
    <form
      aria-label={`Activate ${a.roleId} at ${a.scope}`}
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <Form
        header={<Header variant="h2">{`Activate ${a.roleId} at ${a.scope}`}</Header>}
        actions={
          <Button variant="primary" formAction="submit" loading={action.busy}>
            Submit
          </Button>
        }
        errorText={action.error !== undefined ? <ErrorText error={action.error} /> : undefined}
      >
        <SpaceBetween size="m">
          {notes.map((n) => (
            <Box key={n} variant="p">
              {n}
            </Box>
          ))}
          <FormField
            label="Duration"
            controlId="activate-duration"
            description={`hours${maxHours === undefined ? '' : `, at most ${maxHours}`}`}
          >
            <Input
              controlId="activate-duration"
              type="number"
              inputMode="decimal"
              step={0.25}
              value={duration}
              onChange={({ detail }) => setDuration(detail.value)}
              autoFocus
            />
          </FormField>
          <FormField
            label="Justification"
            controlId="activate-justification"
            description={rules.requireJustification ? 'required' : 'optional'}
          >
            <Textarea
              controlId="activate-justification"
              rows={2}
              value={justification}
              onChange={({ detail }) => setJustification(detail.value)}
            />
          </FormField>
          {rules.requireTicket && (
            <FormField label="Ticket system" controlId="activate-ticket-system">
              <Input
                controlId="activate-ticket-system"
                value={ticketSystem}
                onChange={({ detail }) => setTicketSystem(detail.value)}
              />
            </FormField>
          )}
          {rules.requireTicket && (
            <FormField label="Ticket number" controlId="activate-ticket-number">
              <Input
                controlId="activate-ticket-number"
                value={ticketNumber}
                onChange={({ detail }) => setTicketNumber(detail.value)}
              />
            </FormField>
          )}
        </SpaceBetween>
      </Form>
    </form>
  );
}

function RowActions({
  assignment: a,
  onActivate,
  refresh,
}: {
  assignment: AssignmentView;
  onActivate: (a: AssignmentView) => void;
  refresh: () => Promise<void>;
}) {
  const { api, announce } = useConsole();
  const action = useAction();
  const change = (kind: 'selfExtend' | 'selfDeactivate') => async () => {
    await action.run(async () => {
      const request = await api.send<Request>('POST', '/v1/requests', {
        action: kind,
        assignmentType: 'active',
        roleId: a.roleId,
        scope: a.scope,
        ...(kind === 'selfExtend' && { justification: 'extended from the console' }),
      });
      announce(`${kind === 'selfExtend' ? 'Extension' : 'Deactivation'} of ${a.roleId}: ${request.status}`);
    });
    await refresh();
  };
  let buttons: React.ReactNode = null;
  if (a.assignmentType === 'eligible' && a.status === 'Active') {
    buttons = <Button onClick={() => onActivate(a)}>Activate</Button>;
  } else if (a.assignmentType === 'active' && a.origin === 'activated' && a.status === 'Active') {
    buttons = (
      <SpaceBetween direction="horizontal" size="xs">
        <Button onClick={change('selfExtend')} loading={action.busy}>
          Extend
        </Button>
        <Button onClick={change('selfDeactivate')} loading={action.busy}>
          Deactivate
        </Button>
      </SpaceBetween>
    );
  }
  return (
    <SpaceBetween size="xxs">
      {buttons}
      <ErrorText error={action.error} />
    </SpaceBetween>
  );
}

export default function MyRoles() {
  const { api } = useConsole();
  const roles = usePolled(async () => {
    const page = await api.get<Page<AssignmentView>>('/v1/me/assignments?limit=200');
    return page.items.filter((a) => a.status === 'Active' || a.status === 'Scheduled');
  });
  const [activating, setActivating] = useState<{ assignment: AssignmentView; policy: RolePolicy }>();
  const opening = useAction();

  const open = (a: AssignmentView) =>
    void opening.run(async () => {
      // The policy in force at the assignment's scope (a scope may have a policy of its own).
      const policy = await api.get<RolePolicy>(
        `/v1/roles/${encodeURIComponent(a.roleId)}/policy?scope=${encodeURIComponent(a.scope)}`,
      );
      setActivating({ assignment: a, policy });
    });

  return (
    <SpaceBetween size="l">
      <ErrorText error={roles.error} />
      <Table
        ariaLabels={{ tableLabel: 'Your eligible and active roles' }}
        header={<Header variant="h2">Your eligible and active roles</Header>}
        loading={roles.loading && !roles.data}
        loadingText="Loading your roles"
        items={roles.data ?? []}
        trackBy={(a) => `${a.roleId} ${a.scope} ${a.assignmentType} ${a.id}`}
        empty={<Box variant="p">You have no eligible or active roles.</Box>}
        columnDefinitions={[
          { id: 'role', header: 'Role', cell: (a) => a.roleId, isRowHeader: true },
          { id: 'scope', header: 'Scope', cell: (a) => a.scope },
          { id: 'type', header: 'Type', cell: typeOf },
          { id: 'status', header: 'Status', cell: (a) => a.status },
          { id: 'left', header: 'Time left', cell: (a) => timeLeft(a.endDateTime) },
          { id: 'provisioning', header: 'Provisioning', cell: (a) => a.provisioning.status },
          {
            id: 'actions',
            header: 'Actions',
            cell: (a) => <RowActions assignment={a} onActivate={open} refresh={roles.reload} />,
          },
        ]}
      />
      <ErrorText error={opening.error} />
      {activating && (
        <Container>
          <ActivateForm
            key={`${activating.assignment.roleId} ${activating.assignment.scope}`}
            assignment={activating.assignment}
            policy={activating.policy}
            done={() => {
              setActivating(undefined);
              void roles.reload();
            }}
          />
        </Container>
      )}
    </SpaceBetween>
  );
}
