/**
 * "Assignments" (admins): every assignment, filtered as the API offers (privileged, status, type) and by text;
 * assign eligible or active (principal, role, scope, schedule, justification: an `adminAssign` request) and remove
 * (an `adminRemove` request).
 */
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Modal from '@cloudscape-design/components/modal';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator, { type StatusIndicatorProps } from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import TextFilter from '@cloudscape-design/components/text-filter';
import Textarea from '@cloudscape-design/components/textarea';
import { useState } from 'react';
import type { Page } from '../api.ts';
import { useConsole, usePolled } from '../app/context.tsx';
import { type Choice, SelectField, TextField } from '../components/fields.tsx';
import { ErrorText, useAction } from '../components/outcome.tsx';
import { formatDate } from '../format.ts';
import type { AssignmentView, Expiration, Request, RequestInput, Role } from '../types.ts';

/** The API filters privileged roles only (`privileged=true`); `false` is no filter. */
type Privileged = 'any' | 'true';
type Status = 'any' | AssignmentView['status'];
type Kind = 'any' | AssignmentView['assignmentType'];

const PRIVILEGED: Choice<Privileged>[] = [
  { value: 'any', label: 'Any role' },
  { value: 'true', label: 'Privileged roles' },
];
const STATUSES: Choice<Status>[] = [
  { value: 'any', label: 'Any status' },
  { value: 'Active', label: 'Active' },
  { value: 'Scheduled', label: 'Scheduled' },
  { value: 'Expired', label: 'Expired' },
  { value: 'Revoked', label: 'Revoked' },
];
const KINDS: Choice<Kind>[] = [
  { value: 'any', label: 'Eligible and active' },
  { value: 'eligible', label: 'Eligible' },
  { value: 'active', label: 'Active' },
];

const STATUS_TYPE: Record<AssignmentView['status'], StatusIndicatorProps.Type> = {
  Active: 'success',
  Scheduled: 'pending',
  Expired: 'stopped',
  Revoked: 'stopped',
};

/** The API's query for the filters (what the API filters itself). */
function assignmentsQuery(filters: { privileged: Privileged; status: Status; kind: Kind }): string {
  const q = new URLSearchParams({ limit: '200' });
  if (filters.privileged !== 'any') q.set('privileged', filters.privileged);
  if (filters.status !== 'any') q.set('status', filters.status);
  if (filters.kind !== 'any') q.set('assignmentType', filters.kind);
  return q.toString();
}

const matches = (a: AssignmentView, text: string): boolean =>
  !text || [a.principalId, a.roleId, a.scope, a.justification ?? ''].some((f) => f.toLowerCase().includes(text));

type Ending = 'duration' | 'date' | 'never';
const ENDINGS: Choice<Ending>[] = [
  { value: 'duration', label: 'After a duration' },
  { value: 'date', label: 'On a date' },
  { value: 'never', label: 'Never (permanent)' },
];

function AssignForm({ roles, done }: { roles: Role[]; done: () => void }) {
  const { api, announce } = useConsole();
  const [principalId, setPrincipalId] = useState('');
  const [principalType, setPrincipalType] = useState<'user' | 'group'>('user');
  const [roleId, setRoleId] = useState('');
  const [scope, setScope] = useState('/');
  const [assignmentType, setAssignmentType] = useState<'eligible' | 'active'>('eligible');
  const [start, setStart] = useState('');
  const [ending, setEnding] = useState<Ending>('duration');
  const [hours, setHours] = useState('8');
  const [end, setEnd] = useState('');
  const [justification, setJustification] = useState('');
  const action = useAction();

  const submit = async () => {
    const expiration: Expiration =
      ending === 'never'
        ? { type: 'noExpiration' }
        : ending === 'date'
          ? { type: 'afterDateTime', endDateTime: end.trim() }
          : { type: 'afterDuration', duration: `PT${Math.round(Number(hours) * 60)}M` };
    const body: RequestInput = {
      action: 'adminAssign',
      assignmentType,
      principalId: principalId.trim(),
      principalType,
      roleId,
      scope: scope.trim() || '/',
      validateOnly: false,
      schedule: { ...(start.trim() && { startDateTime: start.trim() }), expiration },
      ...(justification.trim() && { justification: justification.trim() }),
    };
    const ok = await action.run(async () => {
      const answer = await api.send<Request | { kind: string; status: string }>('POST', '/v1/requests', body);
      announce(
        'action' in answer
          ? `Assigned ${roleId} to ${body.principalId}: ${answer.status}`
          : `Held for a second administrator (${answer.status})`,
      );
    });
    if (ok) {
      setPrincipalId('');
      setJustification('');
      done();
    }
  };

  return (
    <form
      aria-label="Assign a role"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <Form
        header={<Header variant="h2">Assign a role</Header>}
        actions={
          <Button variant="primary" formAction="submit" loading={action.busy}>
            Assign
          </Button>
        }
        errorText={action.error !== undefined ? <ErrorText error={action.error} /> : undefined}
      >
        <ColumnLayout columns={2}>
          <TextField id="assign-principal" label="Principal" value={principalId} onChange={setPrincipalId} />
          <SelectField
            id="assign-principal-type"
            label="Principal type"
            value={principalType}
            choices={[
              { value: 'user', label: 'User' },
              { value: 'group', label: 'Group' },
            ]}
            onChange={setPrincipalType}
          />
          <SelectField
            id="assign-role"
            label="Role"
            value={roleId}
            choices={roles.map((r) => ({ value: r.id, label: `${r.displayName} (${r.id})` }))}
            onChange={setRoleId}
          />
          <TextField id="assign-scope" label="Scope" value={scope} onChange={setScope} placeholder="/accounts/…" />
          <SelectField
            id="assign-type"
            label="Assignment type"
            value={assignmentType}
            choices={[
              { value: 'eligible', label: 'Eligible' },
              { value: 'active', label: 'Active' },
            ]}
            onChange={setAssignmentType}
          />
          <TextField
            id="assign-start"
            label="Start"
            value={start}
            onChange={setStart}
            description="ISO 8601 date and time; empty: now"
            placeholder="2026-12-24T08:00:00Z"
          />
          <SelectField id="assign-ending" label="Ends" value={ending} choices={ENDINGS} onChange={setEnding} />
          {ending === 'duration' && (
            <TextField
              id="assign-hours"
              label="Duration"
              type="number"
              value={hours}
              onChange={setHours}
              description="hours"
            />
          )}
          {ending === 'date' && (
            <TextField
              id="assign-end"
              label="End"
              value={end}
              onChange={setEnd}
              description="ISO 8601 date and time"
              placeholder="2026-12-31T18:00:00Z"
            />
          )}
        </ColumnLayout>
        <Box margin={{ top: 'm' }}>
          <FormField label="Justification" controlId="assign-justification">
            <Textarea
              controlId="assign-justification"
              rows={2}
              value={justification}
              onChange={({ detail }) => setJustification(detail.value)}
            />
          </FormField>
        </Box>
      </Form>
    </form>
  );
}

function RemoveDialog({ assignment: a, close }: { assignment: AssignmentView; close: (removed: boolean) => void }) {
  const { api, announce } = useConsole();
  const [justification, setJustification] = useState('');
  const action = useAction();
  const remove = async () => {
    const ok = await action.run(async () => {
      const answer = await api.send<Request | { status: string }>('POST', '/v1/requests', {
        action: 'adminRemove',
        assignmentType: a.assignmentType,
        principalId: a.principalId,
        principalType: a.principalType,
        roleId: a.roleId,
        scope: a.scope,
        ...(justification.trim() && { justification: justification.trim() }),
      });
      announce(`Removal of ${a.roleId} from ${a.principalId}: ${answer.status}`);
    });
    if (ok) close(true);
  };
  return (
    <Modal
      visible
      onDismiss={() => close(false)}
      header={`Remove ${a.roleId} from ${a.principalId} at ${a.scope}`}
      closeAriaLabel="Close"
      footer={
        <Box float="right">
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" onClick={() => close(false)}>
              Keep it
            </Button>
            <Button variant="primary" loading={action.busy} onClick={() => void remove()}>
              Remove assignment
            </Button>
          </SpaceBetween>
        </Box>
      }
    >
      <SpaceBetween size="m">
        <Box variant="p">
          The {a.assignmentType} assignment ends now
          {a.assignmentType === 'active' ? ' and its access in AWS is removed' : ''}.
        </Box>
        <FormField label="Justification" controlId="remove-justification">
          <Textarea
            controlId="remove-justification"
            rows={2}
            value={justification}
            onChange={({ detail }) => setJustification(detail.value)}
          />
        </FormField>
        <ErrorText error={action.error} />
      </SpaceBetween>
    </Modal>
  );
}

export default function Assignments() {
  const { api } = useConsole();
  const [privileged, setPrivileged] = useState<Privileged>('any');
  const [status, setStatus] = useState<Status>('Active');
  const [kind, setKind] = useState<Kind>('any');
  const [text, setText] = useState('');
  const [removing, setRemoving] = useState<AssignmentView>();
  const query = assignmentsQuery({ privileged, status, kind });
  const list = usePolled(async () => (await api.get<Page<AssignmentView>>(`/v1/assignments?${query}`)).items);
  const roles = usePolled(async () => (await api.get<Page<Role>>('/v1/roles?limit=200')).items, false);
  const [shownQuery, setShownQuery] = useState(query);
  if (shownQuery !== query) {
    // The filters changed: read at once (the poll keeps reading with the new filters).
    setShownQuery(query);
    void list.reload();
  }
  const filter = text.trim().toLowerCase();
  const items = (list.data ?? []).filter((a) => matches(a, filter));

  return (
    <SpaceBetween size="l">
      <ErrorText error={list.error} />
      <Table
        ariaLabels={{ tableLabel: 'Assignments' }}
        header={
          <Header variant="h2" counter={list.data ? `(${items.length})` : undefined}>
            Assignments
          </Header>
        }
        filter={
          <SpaceBetween direction="horizontal" size="m">
            <TextFilter
              filteringText={text}
              filteringPlaceholder="Principal, role, scope"
              filteringAriaLabel="Filter by principal, role or scope"
              countText={`${items.length} shown`}
              onChange={({ detail }) => setText(detail.filteringText)}
            />
            <SelectField
              id="filter-privileged"
              label="Privileged"
              value={privileged}
              choices={PRIVILEGED}
              onChange={setPrivileged}
            />
            <SelectField id="filter-status" label="Status" value={status} choices={STATUSES} onChange={setStatus} />
            <SelectField id="filter-type" label="Type" value={kind} choices={KINDS} onChange={setKind} />
          </SpaceBetween>
        }
        loading={list.loading && !list.data}
        loadingText="Loading assignments"
        items={items}
        trackBy="id"
        empty={<Box variant="p">No assignment matches these filters.</Box>}
        columnDefinitions={[
          {
            id: 'principal',
            header: 'Principal',
            cell: (a) => `${a.principalId}${a.principalType === 'user' ? '' : ` (${a.principalType})`}`,
            isRowHeader: true,
          },
          { id: 'role', header: 'Role', cell: (a) => a.roleId },
          { id: 'scope', header: 'Scope', cell: (a) => a.scope },
          {
            id: 'type',
            header: 'Type',
            cell: (a) =>
              a.assignmentType === 'eligible' ? 'Eligible' : a.origin === 'activated' ? 'Activated' : 'Active',
          },
          {
            id: 'status',
            header: 'Status',
            cell: (a) => <StatusIndicator type={STATUS_TYPE[a.status]}>{a.status}</StatusIndicator>,
          },
          {
            id: 'end',
            header: 'Ends',
            cell: (a) =>
              a.status === 'Scheduled'
                ? `starts ${formatDate(a.startDateTime)}`
                : a.endDateTime
                  ? formatDate(a.endDateTime)
                  : 'permanent',
          },
          {
            id: 'actions',
            header: 'Actions',
            minWidth: 120,
            cell: (a) =>
              a.status === 'Active' || a.status === 'Scheduled' ? (
                <Button variant="inline-link" onClick={() => setRemoving(a)}>
                  Remove
                </Button>
              ) : null,
          },
        ]}
      />
      <ErrorText error={roles.error} />
      <Container>
        <AssignForm roles={roles.data ?? []} done={() => void list.reload()} />
      </Container>
      {removing && (
        <RemoveDialog
          assignment={removing}
          close={(removed) => {
            setRemoving(undefined);
            if (removed) void list.reload();
          }}
        />
      )}
    </SpaceBetween>
  );
}
