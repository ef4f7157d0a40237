/** Small form fields the admin pages share: a labelled text input and a labelled select (real <label for>). */
import FormField from '@cloudscape-design/components/form-field';
import Input from '@cloudscape-design/components/input';
import Select from '@cloudscape-design/components/select';

export interface Choice<T extends string> {
  value: T;
  label: string;
}

export function TextField({
  id,
  label,
  value,
  onChange,
  description,
  placeholder,
  type = 'text',
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  description?: string;
  placeholder?: string;
  type?: 'text' | 'number';
}) {
  return (
    <FormField label={label} controlId={id} description={description}>
      <Input
        controlId={id}
        type={type}
        value={value}
        placeholder={placeholder}
        onChange={({ detail }) => onChange(detail.value)}
      />
    </FormField>
  );
}

export function SelectField<T extends string>({
  id,
  label,
  value,
  choices,
  onChange,
  description,
}: {
  id: string;
  label: string;
  value: T;
  choices: readonly Choice<T>[];
  onChange: (value: T) => void;
  description?: string;
}) {
  const selected = choices.find((c) => c.value === value) ?? null;
  return (
    <FormField label={label} controlId={id} description={description}>
      <Select
        controlId={id}
        selectedOption={selected}
        options={choices.map((c) => ({ value: c.value, label: c.label }))}
        onChange={({ detail }) => onChange(detail.selectedOption.value as T)}
      />
    </FormField>
  );
}
