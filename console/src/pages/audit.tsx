/**
 * "Audit" (admins and auditors): the audit events with the API's filters (from, to, actor, principal, role,
 * action), and the exports: start one, see it complete (the list polls), download it, and the state of the chain
 * of manifests (each export's manifest names the SHA-256 of the one before it; docs/audit.md).
 */
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import Form from '@cloudscape-design/components/form';
import Header from '@cloudscape-design/components/header';
import KeyValuePairs from '@cloudscape-design/components/key-value-pairs';
import Link from '@cloudscape-design/components/link';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator, { type StatusIndicatorProps } from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import { useState } from 'react';
import type { Page } from '../api.ts';
import { useConsole, usePolled } from '../app/context.tsx';
import { SelectField, TextField } from '../components/fields.tsx';
import { ErrorText, useAction } from '../components/outcome.tsx';
import { formatDate } from '../format.ts';
import type { AuditEvent, AuditExport, AuditExportInput } from '../types.ts';

interface Filters {
  from: string;
  to: string;
  actorId: string;
  principalId: string;
  roleId: string;
  action: string;
}
const NO_FILTERS: Filters = { from: '', to: '', actorId: '', principalId: '', roleId: '', action: '' };

const eventsQuery = (f: Filters): string => {
  const q = new URLSearchParams({ limit: '100' });
  for (const [k, v] of Object.entries(f)) if (v.trim()) q.set(k, v.trim());
  return q.toString();
};

const detailsText = (e: AuditEvent): string => {
  const text = JSON.stringify(e.details);
  return text === '{}' ? '—' : text.length > 160 ? `${text.slice(0, 157)}…` : text;
};

function Events() {
  const { api } = useConsole();
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  const query = eventsQuery(applied);
  const events = usePolled(async () => (await api.get<Page<AuditEvent>>(`/v1/audit-events?${query}`)).items);
  const [shown, setShown] = useState(query);
  if (shown !== query) {
    setShown(query);
    void events.reload();
  }
  const field = (key: keyof Filters, label: string, placeholder?: string) => (
    <TextField
      id={`audit-${key}`}
      label={label}
      value={draft[key]}
      placeholder={placeholder}
      onChange={(v) => setDraft({ ...draft, [key]: v })}
    />
  );
  return (
    <SpaceBetween size="m">
      <Container header={<Header variant="h2">Filter the events</Header>}>
        <form
          aria-label="Filter the events"
          onSubmit={(event) => {
            event.preventDefault();
            setApplied(draft);
          }}
        >
          <SpaceBetween size="s">
            <ColumnLayout columns={3}>
              {field('from', 'From', '2026-12-01T00:00:00Z')}
              {field('to', 'To', '2026-12-02T00:00:00Z')}
              {field('action', 'Action', 'role.created')}
              {field('actorId', 'Actor')}
              {field('principalId', 'Principal')}
              {field('roleId', 'Role')}
            </ColumnLayout>
            <SpaceBetween direction="horizontal" size="xs">
              <Button formAction="submit">Apply filters</Button>
              <Button
                formAction="none"
                onClick={() => {
                  setDraft(NO_FILTERS);
                  setApplied(NO_FILTERS);
                }}
              >
                Clear filters
              </Button>
            </SpaceBetween>
          </SpaceBetween>
        </form>
      </Container>
      <ErrorText error={events.error} />
      <Table
        ariaLabels={{ tableLabel: 'Audit events' }}
        header={
          <Header variant="h2" counter={events.data ? `(${events.data.length})` : undefined} description="Newest first">
            Audit events
          </Header>
        }
        loading={events.loading && !events.data}
        loadingText="Loading events"
        items={events.data ?? []}
        trackBy="id"
        wrapLines
        empty={<Box variant="p">No event matches these filters.</Box>}
        columnDefinitions={[
          { id: 'time', header: 'Time', cell: (e) => formatDate(e.time), isRowHeader: true },
          { id: 'action', header: 'Action', cell: (e) => e.action },
          { id: 'actor', header: 'Actor', cell: (e) => e.actor.id },
          { id: 'principal', header: 'Principal', cell: (e) => e.target.principalId ?? '—' },
          { id: 'role', header: 'Role', cell: (e) => e.target.roleId ?? '—' },
          { id: 'scope', header: 'Scope', cell: (e) => e.target.scope ?? '—' },
          { id: 'details', header: 'Details', cell: detailsText },
        ]}
      />
    </SpaceBetween>
  );
}

const EXPORT_STATUS: Record<AuditExport['status'], StatusIndicatorProps.Type> = {
  Pending: 'pending',
  Running: 'in-progress',
  Completed: 'success',
  Failed: 'error',
};

const startOfToday = (): string => {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  return d.toISOString().replace('.000Z', 'Z');
};

function StartExport({ done }: { done: () => void }) {
  const { api, announce } = useConsole();
  const [from, setFrom] = useState(startOfToday);
  const [to, setTo] = useState('');
  const [format, setFormat] = useState<'jsonl' | 'csv'>('jsonl');
  const action = useAction();
  const submit = async () => {
    const body: AuditExportInput = {
      from: from.trim(),
      to: to.trim() || new Date().toISOString(),
      format,
    };
    const ok = await action.run(async () => {
      const created = await api.send<AuditExport>('POST', '/v1/audit-exports', body);
      announce(`Export ${created.id} started: ${created.status}`);
    });
    if (ok) done();
  };
  return (
    <form
      aria-label="Start an export"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <Form
        header={<Header variant="h3">Start an export</Header>}
        actions={
          <Button formAction="submit" loading={action.busy}>
            Start export
          </Button>
        }
        errorText={action.error !== undefined ? <ErrorText error={action.error} /> : undefined}
      >
        <ColumnLayout columns={3}>
          <TextField id="export-from" label="Export from" value={from} onChange={setFrom} description="ISO 8601" />
          <TextField
            id="export-to"
            label="Export to"
            value={to}
            onChange={setTo}
            description="ISO 8601; empty: now"
            placeholder="now"
          />
          <SelectField
            id="export-format"
            label="Format"
            value={format}
            choices={[
              { value: 'jsonl', label: 'JSON Lines' },
              { value: 'csv', label: 'CSV' },
            ]}
            onChange={setFormat}
          />
        </ColumnLayout>
      </Form>
    </form>
  );
}

/**
 * The chain of manifests as the exports show it (oldest completed first): each manifest after the first names its
 * predecessor's SHA-256 (`previousManifestSha256`); the first of the chain names none. Its full check (each
 * manifest's hash) is `npm run audit:verify` on the downloaded files.
 */
function chainState(exports: AuditExport[]): { manifests: number; head: string; state: string; ok: boolean } {
  const completed = exports.filter((e) => e.status === 'Completed' && e.manifestKey).reverse();
  const head = completed.at(-1)?.manifestKey ?? '—';
  const unlinked = completed.slice(1).filter((e) => !e.previousManifestSha256);
  const state =
    completed.length === 0
      ? 'No manifest yet'
      : unlinked.length === 0
        ? completed.length === 1 && !completed[0]?.previousManifestSha256
          ? 'Started: one manifest, the first of the chain'
          : `Linked: each of the ${completed.length} manifests names the one before it`
        : `Broken: ${unlinked.map((e) => e.id).join(', ')} name no previous manifest`;
  return { manifests: completed.length, head, state, ok: unlinked.length === 0 };
}

function Exports() {
  const { api } = useConsole();
  const exports = usePolled(async () => (await api.get<Page<AuditExport>>('/v1/audit-exports?limit=50')).items);
  const chain = chainState(exports.data ?? []);
  return (
    <Container header={<Header variant="h2">Exports</Header>}>
      <SpaceBetween size="l">
        <StartExport done={() => void exports.reload()} />
        <ErrorText error={exports.error} />
        <KeyValuePairs
          columns={3}
          ariaLabel="Manifest chain"
          items={[
            {
              label: 'Manifest chain',
              value: <StatusIndicator type={chain.ok ? 'success' : 'error'}>{chain.state}</StatusIndicator>,
            },
            { label: 'Manifests', value: String(chain.manifests) },
            { label: 'Head of the chain', value: chain.head },
          ]}
        />
        <Table
          variant="borderless"
          ariaLabels={{ tableLabel: 'Audit exports' }}
          header={<Header variant="h3">Audit exports, newest first</Header>}
          loading={exports.loading && !exports.data}
          loadingText="Loading exports"
          items={exports.data ?? []}
          trackBy="id"
          wrapLines
          empty={<Box variant="p">No export yet.</Box>}
          columnDefinitions={[
            { id: 'id', header: 'Export', cell: (e) => e.id, isRowHeader: true },
            { id: 'range', header: 'Range', cell: (e) => `${formatDate(e.from)} – ${formatDate(e.to)}` },
            { id: 'format', header: 'Format', cell: (e) => e.format },
            {
              id: 'status',
              header: 'Status',
              cell: (e) => (
                <StatusIndicator type={EXPORT_STATUS[e.status]}>
                  {e.status}
                  {e.error ? `: ${e.error}` : ''}
                </StatusIndicator>
              ),
            },
            { id: 'records', header: 'Records', cell: (e) => (e.recordCount === null ? '—' : String(e.recordCount)) },
            {
              id: 'manifest',
              header: 'Previous manifest',
              cell: (e) =>
                e.status !== 'Completed'
                  ? '—'
                  : e.previousManifestSha256
                    ? `SHA-256 ${e.previousManifestSha256.slice(0, 12)}…`
                    : 'first of the chain',
            },
            {
              id: 'download',
              header: 'Download',
              cell: (e) =>
                e.downloadUrl ? (
                  <Link href={e.downloadUrl} ariaLabel={`Download ${e.id}`}>
                    Download
                  </Link>
                ) : (
                  '—'
                ),
            },
          ]}
        />
      </SpaceBetween>
    </Container>
  );
}

export default function Audit() {
  return (
    <SpaceBetween size="l">
      <Exports />
      <Events />
    </SpaceBetween>
  );
}
