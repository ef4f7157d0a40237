/** "Roles" (administrators): every role, and a form to create one (the editor opens on the new role). */
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Checkbox from '@cloudscape-design/components/checkbox';
import Container from '@cloudscape-design/components/container';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import Link from '@cloudscape-design/components/link';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import { useState } from 'react';
import type { Page } from '../api.ts';
import { useConsole, usePolled } from '../app/context.tsx';
import { ErrorText, useAction } from '../components/outcome.tsx';
import type { Role } from '../types.ts';

function CreateRole() {
  const { api, navigate, announce } = useConsole();
  const [id, setId] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [description, setDescription] = useState('');
  const [privileged, setPrivileged] = useState(false);
  const action = useAction();
  const submit = async () => {
    const roleId = id.trim();
    const ok = await action.run(async () => {
      await api.send<Role>('POST', '/v1/roles', {
        id: roleId,
        displayName: displayName.trim(),
        ...(description.trim() && { description: description.trim() }),
        privileged,
      });
      announce(`Role ${roleId} created`);
    });
    if (ok) navigate(`/admin/roles/${encodeURIComponent(roleId)}`);
  };
  return (
    <form
      aria-labelledby="create-role"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <Form
        header={
          <Header variant="h2">
            <span id="create-role">Create a role</span>
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
            <FormField label="Role id" controlId="role-id" description="lower-case letters, digits and dashes">
              <Input controlId="role-id" value={id} onChange={({ detail }) => setId(detail.value)} />
            </FormField>
            <FormField label="Display name" controlId="role-display-name">
              <Input
                controlId="role-display-name"
                value={displayName}
                onChange={({ detail }) => setDisplayName(detail.value)}
              />
            </FormField>
            <FormField label="Description" controlId="role-description">
              <Input
                controlId="role-description"
                value={description}
                onChange={({ detail }) => setDescription(detail.value)}
              />
            </FormField>
            <Checkbox checked={privileged} onChange={({ detail }) => setPrivileged(detail.checked)}>
              Privileged
            </Checkbox>
          </SpaceBetween>
        </Container>
      </Form>
    </form>
  );
}

export default function Roles() {
  const { api, navigate } = useConsole();
  const roles = usePolled(async () => (await api.get<Page<Role>>('/v1/roles?limit=200')).items);
  return (
    <SpaceBetween size="l">
      <ErrorText error={roles.error} />
      <Table
        ariaLabels={{ tableLabel: 'Roles' }}
        header={<Header variant="h2">Roles</Header>}
        loading={roles.loading && !roles.data}
        loadingText="Loading roles"
        items={roles.data ?? []}
        trackBy="id"
        empty={<Box variant="p">There are no roles.</Box>}
        columnDefinitions={[
          {
            id: 'id',
            header: 'Role',
            isRowHeader: true,
            cell: (r) => (
              <Link
                href={`/admin/roles/${r.id}`}
                onFollow={(event) => {
                  event.preventDefault();
                  navigate(`/admin/roles/${encodeURIComponent(r.id)}`);
                }}
              >
                {r.id}
              </Link>
            ),
          },
          { id: 'name', header: 'Display name', cell: (r) => r.displayName },
          { id: 'privileged', header: 'Privileged', cell: (r) => (r.privileged ? 'yes' : 'no') },
          { id: 'builtIn', header: 'Built in', cell: (r) => (r.builtIn ? 'yes' : 'no') },
        ]}
      />
      <CreateRole />
    </SpaceBetween>
  );
}
