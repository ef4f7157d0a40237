/**
 * "Groups" (admins): the groups, create one (its member and owner roles come with it), and a group's active members
 * and owners; add a member or an owner (an `adminAssign` of the group's role at `/`) or remove one (`adminRemove`).
 */
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import Form from '@cloudscape-design/components/form';
import Header from '@cloudscape-design/components/header';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import TextFilter from '@cloudscape-design/components/text-filter';
import { useState } from 'react';
import type { Page } from '../api.ts';
import { useConsole, usePolled } from '../app/context.tsx';
import { SelectField, TextField } from '../components/fields.tsx';
import { ErrorText, useAction } from '../components/outcome.tsx';
import { formatDate, timeLeft } from '../format.ts';
import type { Group, GroupInput, GroupMember } from '../types.ts';

const relationRole = (groupId: string, relation: 'member' | 'owner') => `group-${groupId}-${relation}`;

function CreateGroup({ done }: { done: () => void }) {
  const { api, announce } = useConsole();
  const [id, setId] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [description, setDescription] = useState('');
  const action = useAction();
  const submit = async () => {
    const body: GroupInput = {
      id: id.trim(),
      displayName: displayName.trim(),
      ...(description.trim() && { description: description.trim() }),
    };
    const ok = await action.run(async () => {
      const group = await api.send<Group>('POST', '/v1/groups', body);
      announce(`Group ${group.id} created`);
    });
    if (ok) {
      setId('');
      setDisplayName('');
      setDescription('');
      done();
    }
  };
  return (
    <form
      aria-label="Create a group"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <Form
        header={<Header variant="h2">Create a group</Header>}
        actions={
          <Button variant="primary" formAction="submit" loading={action.busy}>
            Create group
          </Button>
        }
        errorText={action.error !== undefined ? <ErrorText error={action.error} /> : undefined}
      >
        <ColumnLayout columns={3}>
          <TextField
            id="group-id"
            label="Group id"
            value={id}
            onChange={setId}
            description="lower-case letters, digits, dashes"
          />
          <TextField id="group-name" label="Display name" value={displayName} onChange={setDisplayName} />
          <TextField id="group-description" label="Description" value={description} onChange={setDescription} />
        </ColumnLayout>
      </Form>
    </form>
  );
}

function AddMember({ group, done }: { group: Group; done: () => void }) {
  const { api, announce } = useConsole();
  const [principalId, setPrincipalId] = useState('');
  const [relation, setRelation] = useState<'member' | 'owner'>('member');
  const [hours, setHours] = useState('8');
  const [justification, setJustification] = useState('');
  const action = useAction();
  const submit = async () => {
    const ok = await action.run(async () => {
      const answer = await api.send<{ status: string }>('POST', '/v1/requests', {
        action: 'adminAssign',
        assignmentType: 'active',
        principalId: principalId.trim(),
        roleId: relationRole(group.id, relation),
        scope: '/',
        schedule: { expiration: { type: 'afterDuration', duration: `PT${Math.round(Number(hours) * 60)}M` } },
        ...(justification.trim() && { justification: justification.trim() }),
      });
      announce(`${principalId.trim()} added to ${group.id} as ${relation}: ${answer.status}`);
    });
    if (ok) {
      setPrincipalId('');
      setJustification('');
      done();
    }
  };
  return (
    <form
      aria-label={`Add to ${group.id}`}
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <Form
        header={<Header variant="h3">{`Add to ${group.displayName}`}</Header>}
        actions={
          <Button formAction="submit" loading={action.busy}>
            Add
          </Button>
        }
        errorText={action.error !== undefined ? <ErrorText error={action.error} /> : undefined}
      >
        <ColumnLayout columns={4}>
          <TextField id="member-principal" label="User" value={principalId} onChange={setPrincipalId} />
          <SelectField
            id="member-relation"
            label="As"
            value={relation}
            choices={[
              { value: 'member', label: 'Member' },
              { value: 'owner', label: 'Owner' },
            ]}
            onChange={setRelation}
          />
          <TextField
            id="member-hours"
            label="Duration"
            type="number"
            value={hours}
            onChange={setHours}
            description="hours"
          />
          <TextField
            id="member-justification"
            label="Justification"
            value={justification}
            onChange={setJustification}
          />
        </ColumnLayout>
      </Form>
    </form>
  );
}

function Members({ group }: { group: Group }) {
  const { api, announce } = useConsole();
  const members = usePolled(
    async () =>
      (await api.get<Page<GroupMember>>(`/v1/groups/${encodeURIComponent(group.id)}/members?limit=200`)).items,
  );
  const removal = useAction();
  const remove = (m: GroupMember) =>
    void removal
      .run(async () => {
        await api.send('POST', '/v1/requests', {
          action: 'adminRemove',
          assignmentType: m.assignmentType,
          principalId: m.principalId,
          principalType: m.principalType,
          roleId: m.roleId,
          scope: m.scope,
          justification: 'removed from the group in the console',
        });
        announce(`${m.principalId} removed from ${group.id}`);
      })
      .then(() => members.reload());
  return (
    <Container header={<Header variant="h2">{`Members of ${group.displayName}`}</Header>}>
      <SpaceBetween size="l">
        <ErrorText error={members.error} />
        <Table
          variant="borderless"
          ariaLabels={{ tableLabel: `Members of ${group.displayName}` }}
          loading={members.loading && !members.data}
          loadingText="Loading members"
          items={members.data ?? []}
          trackBy="id"
          empty={<Box variant="p">This group has no active member or owner.</Box>}
          columnDefinitions={[
            { id: 'principal', header: 'User', cell: (m) => m.principalId, isRowHeader: true },
            { id: 'relation', header: 'As', cell: (m) => (m.relation === 'owner' ? 'Owner' : 'Member') },
            { id: 'since', header: 'Since', cell: (m) => formatDate(m.startDateTime) },
            { id: 'left', header: 'Time left', cell: (m) => timeLeft(m.endDateTime) },
            {
              id: 'actions',
              header: 'Actions',
              minWidth: 120,
              cell: (m) => (
                <Button onClick={() => remove(m)} loading={removal.busy}>
                  Remove
                </Button>
              ),
            },
          ]}
        />
        <ErrorText error={removal.error} />
        <AddMember group={group} done={() => void members.reload()} />
      </SpaceBetween>
    </Container>
  );
}

export default function Groups() {
  const { api } = useConsole();
  const groups = usePolled(async () => (await api.get<Page<Group>>('/v1/groups?limit=200')).items);
  const [selected, setSelected] = useState<Group>();
  const [text, setText] = useState('');
  const filter = text.trim().toLowerCase();
  const items = (groups.data ?? []).filter(
    (g) => !filter || g.id.includes(filter) || g.displayName.toLowerCase().includes(filter),
  );
  return (
    <SpaceBetween size="l">
      <ErrorText error={groups.error} />
      <Table
        ariaLabels={{ tableLabel: 'Groups' }}
        header={
          <Header variant="h2" counter={groups.data ? `(${items.length})` : undefined}>
            Groups
          </Header>
        }
        filter={
          <TextFilter
            filteringText={text}
            filteringPlaceholder="Find a group"
            filteringAriaLabel="Filter groups"
            onChange={({ detail }) => setText(detail.filteringText)}
          />
        }
        loading={groups.loading && !groups.data}
        loadingText="Loading groups"
        items={items}
        trackBy="id"
        empty={<Box variant="p">There is no group yet.</Box>}
        columnDefinitions={[
          { id: 'name', header: 'Name', cell: (g) => g.displayName, isRowHeader: true },
          { id: 'id', header: 'Id', cell: (g) => g.id },
          { id: 'description', header: 'Description', cell: (g) => g.description ?? '—' },
          { id: 'created', header: 'Created', cell: (g) => formatDate(g.createdAt) },
          {
            id: 'members',
            header: 'Members',
            cell: (g) => (
              <Button variant="inline-link" ariaLabel={`Members of ${g.displayName}`} onClick={() => setSelected(g)}>
                Members
              </Button>
            ),
          },
        ]}
      />
      {selected && <Members key={selected.id} group={selected} />}
      <Container>
        <CreateGroup done={() => void groups.reload()} />
      </Container>
    </SpaceBetween>
  );
}
