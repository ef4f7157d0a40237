/** Shared bits of the pages: an error where it happened (read out at once), and an action that reports its failure. */
import Alert from '@cloudscape-design/components/alert';
import { useState } from 'react';
import { describeError } from '../app/context.tsx';

/** An error shown where it happened, read out at once (role=alert). */
export function ErrorText({ error }: { error: unknown }) {
  if (error === undefined) return null;
  return (
    <div role="alert">
      <Alert type="error">{describeError(error)}</Alert>
    </div>
  );
}

/**
 * An action's state: `run` performs it, keeping its error to show (and answering whether it succeeded); `busy`
 * while it runs, so its button can say so and not be pressed twice.
 */
export function useAction(): {
  error: unknown;
  busy: boolean;
  run(action: () => Promise<void>): Promise<boolean>;
} {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<void>) => {
    setError(undefined);
    setBusy(true);
    try {
      await action();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run };
}
