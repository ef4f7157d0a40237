/**
 * "Alerts" (admins): the security alerts (filtered by status, as the API offers) with Dismiss, and the editor of
 * the alert settings (each type's switch, severity and measure, saved as a whole by PUT /v1/alert-settings).
 */
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Checkbox from '@cloudscape-design/components/checkbox';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import Form from '@cloudscape-design/components/form';
import Header from '@cloudscape-design/components/header';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator, { type StatusIndicatorProps } from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import { useState } from 'react';
import type { Page } from '../api.ts';
import { useConsole, usePolled } from '../app/context.tsx';
import { type Choice, SelectField, TextField } from '../components/fields.tsx';
import { ErrorText, useAction } from '../components/outcome.tsx';
import { formatDate } from '../format.ts';
import type { Alert, AlertSettings, AlertType } from '../types.ts';

/** What a person reads for each alert type (api.md, "Alerts"). */
const TYPE_LABEL: Record<AlertType, string> = {
  roleWithoutMfa: 'Privileged role without MFA',
  tooManyPermanentAssignments: 'Too many permanent assignments',
  activatedTooFrequently: 'Activated too frequently',
  staleEligibility: 'Stale eligibility',
  emergencyAccountUsed: 'Emergency account used',
  expiryMissed: 'Expiry missed',
  provisioningFailed: 'Provisioning failed',
  sessionFenceFailed: 'Session fence failed',
  assignedOutsideElevate: 'Assigned outside Elevate',
};

const SEVERITY_TYPE: Record<Alert['severity'], StatusIndicatorProps.Type> = {
  high: 'error',
  medium: 'warning',
  low: 'info',
};

type StatusFilter = 'any' | Alert['status'];
const STATUSES: Choice<StatusFilter>[] = [
  { value: 'active', label: 'Active' },
  { value: 'dismissed', label: 'Dismissed' },
  { value: 'resolved', label: 'Resolved' },
  { value: 'any', label: 'Any status' },
];

const SEVERITIES: Choice<Alert['severity']>[] = [
  { value: 'low', label: 'Low' },
  { value: 'medium', label: 'Medium' },
  { value: 'high', label: 'High' },
];

/** What the alert is about, from its sample of affected items. */
function affectedText(a: Alert): string {
  const first = a.affected
    .slice(0, 3)
    .map((item) =>
      Object.entries(item)
        .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
        .slice(0, 3)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', '),
    )
    .join('; ');
  const count = a.affectedCount ?? a.affected.length;
  return count > 3 ? `${first} (and ${count - 3} more)` : first || '—';
}

function AlertList() {
  const { api, announce } = useConsole();
  const [status, setStatus] = useState<StatusFilter>('active');
  const query = status === 'any' ? 'limit=200' : `limit=200&status=${status}`;
  const alerts = usePolled(async () => (await api.get<Page<Alert>>(`/v1/alerts?${query}`)).items);
  const [shown, setShown] = useState(query);
  if (shown !== query) {
    setShown(query);
    void alerts.reload();
  }
  const dismissal = useAction();
  const dismiss = (a: Alert) =>
    void dismissal
      .run(async () => {
        await api.send<Alert>('POST', `/v1/alerts/${encodeURIComponent(a.id)}/dismiss`);
        announce(`Alert ${TYPE_LABEL[a.type]} dismissed`);
      })
      .then(() => alerts.reload());
  return (
    <SpaceBetween size="m">
      <ErrorText error={alerts.error} />
      <ErrorText error={dismissal.error} />
      <Table
        ariaLabels={{ tableLabel: 'Security alerts' }}
        header={
          <Header variant="h2" counter={alerts.data ? `(${alerts.data.length})` : undefined}>
            Security alerts
          </Header>
        }
        filter={
          <SelectField id="alerts-status" label="Status" value={status} choices={STATUSES} onChange={setStatus} />
        }
        loading={alerts.loading && !alerts.data}
        loadingText="Loading alerts"
        items={alerts.data ?? []}
        trackBy="id"
        empty={<Box variant="p">No alert has this status.</Box>}
        columnDefinitions={[
          { id: 'type', header: 'Alert', cell: (a) => TYPE_LABEL[a.type], isRowHeader: true },
          {
            id: 'severity',
            header: 'Severity',
            cell: (a) => <StatusIndicator type={SEVERITY_TYPE[a.severity]}>{a.severity}</StatusIndicator>,
          },
          { id: 'status', header: 'Status', cell: (a) => a.status },
          { id: 'affected', header: 'Affected', cell: affectedText },
          { id: 'detected', header: 'Detected', cell: (a) => formatDate(a.detectedAt) },
          {
            id: 'actions',
            header: 'Actions',
            cell: (a) =>
              a.status === 'active' ? (
                <Button onClick={() => dismiss(a)} loading={dismissal.busy}>
                  Dismiss
                </Button>
              ) : null,
          },
        ]}
      />
    </SpaceBetween>
  );
}

type Setting = Record<string, unknown>;

/** The fields of one alert type's settings, by what the type is measured with. */
function TypeSettings({
  type,
  value,
  onChange,
}: {
  type: AlertType;
  value: Setting;
  onChange: (value: Setting) => void;
}) {
  const label = TYPE_LABEL[type];
  const set = (key: string, v: unknown) => onChange({ ...value, [key]: v });
  const numberField = (key: string, title: string, description: string) =>
    key in value && (
      <TextField
        id={`setting-${type}-${key}`}
        label={`${label}: ${title}`}
        type="number"
        value={String(value[key])}
        description={description}
        onChange={(v) => set(key, v === '' ? '' : Number(v))}
      />
    );
  return (
    <Container header={<Header variant="h3">{label}</Header>}>
      <ColumnLayout columns={4}>
        <Checkbox checked={value.enabled === true} onChange={({ detail }) => set('enabled', detail.checked)}>
          {`${label}: on`}
        </Checkbox>
        {'severity' in value && (
          <SelectField
            id={`setting-${type}-severity`}
            label={`${label}: severity`}
            value={value.severity as Alert['severity']}
            choices={SEVERITIES}
            onChange={(v) => set('severity', v)}
          />
        )}
        {'mode' in value && (
          <SelectField
            id={`setting-${type}-mode`}
            label={`${label}: mode`}
            value={value.mode as 'alert' | 'remove'}
            choices={[
              { value: 'alert', label: 'Alert only' },
              { value: 'remove', label: 'Alert and remove' },
            ]}
            onChange={(v) => set('mode', v)}
          />
        )}
        {numberField('threshold', 'threshold', 'how many')}
        {numberField('days', 'days', 'days without activation')}
        {'window' in value && (
          <TextField
            id={`setting-${type}-window`}
            label={`${label}: window`}
            value={String(value.window)}
            description="ISO 8601 duration, e.g. P1D"
            onChange={(v) => set('window', v)}
          />
        )}
      </ColumnLayout>
    </Container>
  );
}

function SettingsEditor() {
  const { api, announce } = useConsole();
  const loaded = usePolled(() => api.get<AlertSettings>('/v1/alert-settings'), false);
  const [draft, setDraft] = useState<AlertSettings>();
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const settings = draft ?? loaded.data;
  const save = async () => {
    if (!settings) return;
    setSaved(false);
    const ok = await action.run(async () => {
      setDraft(await api.send<AlertSettings>('PUT', '/v1/alert-settings', settings));
      announce('Alert settings saved');
    });
    setSaved(ok);
  };
  return (
    <form
      aria-label="Alert settings"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <Form
        header={<Header variant="h2">Alert settings</Header>}
        actions={
          <Button variant="primary" formAction="submit" loading={action.busy} disabled={!settings}>
            Save settings
          </Button>
        }
        errorText={action.error !== undefined ? <ErrorText error={action.error} /> : undefined}
      >
        <SpaceBetween size="m">
          <ErrorText error={loaded.error} />
          {saved && (
            <StatusIndicator type="success" wrapText>
              Settings saved.
            </StatusIndicator>
          )}
          {settings &&
            (Object.keys(settings) as AlertType[]).map((type) => (
              <TypeSettings
                key={type}
                type={type}
                value={settings[type as keyof AlertSettings] as Setting}
                onChange={(value) => {
                  setSaved(false);
                  setDraft({ ...settings, [type]: value });
                }}
              />
            ))}
        </SpaceBetween>
      </Form>
    </form>
  );
}

export default function Alerts() {
  return (
    <SpaceBetween size="l">
      <AlertList />
      <SettingsEditor />
    </SpaceBetween>
  );
}
