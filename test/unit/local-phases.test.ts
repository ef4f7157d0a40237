import { describe, expect, it, vi } from 'vitest';
import { type Phase, startPhases } from '#infra/local/phases.ts';

/** Phases that record what happens to them in `seen`; `failing` names the phase whose start throws. */
function recorded(names: string[], seen: string[], failing?: { start?: string; stop?: string }): Phase[] {
  return names.map((name) => ({
    name,
    start: () => {
      if (failing?.start === name) throw new Error(`${name} cannot start`);
      seen.push(`start ${name}`);
    },
    stop: async () => {
      if (failing?.stop === name) throw new Error(`${name} cannot stop`);
      seen.push(`stop ${name}`);
    },
  }));
}

describe('the local runtime started and stopped by phases', () => {
  it('starts the phases in order and stops them in the reverse order, once however often stop is called', async () => {
    // Prepare
    const seen: string[] = [];
    const started = await startPhases(recorded(['port', 'dynamodb', 'server'], seen));

    // Act
    await Promise.all([started.stop(), started.stop()]);
    await started.stop();

    // Assess
    expect(seen).toEqual(['start port', 'start dynamodb', 'start server', 'stop server', 'stop dynamodb', 'stop port']);
  });

  it('stops what started, last first, when a phase fails to start, and throws its error; later phases never start', async () => {
    // Prepare
    const seen: string[] = [];

    // Act
    const start = startPhases(recorded(['port', 'dynamodb', 'workflow', 'server'], seen, { start: 'workflow' }));

    // Assess
    await expect(start).rejects.toThrow('workflow cannot start');
    expect(seen).toEqual(['start port', 'start dynamodb', 'stop dynamodb', 'stop port']);
  });

  it('stops every other phase when one fails to stop, then throws that failure', async () => {
    // Prepare
    const seen: string[] = [];
    const started = await startPhases(recorded(['port', 'dynamodb', 'server'], seen, { stop: 'dynamodb' }));

    // Act
    const stop = started.stop();

    // Assess
    await expect(stop).rejects.toThrow('stopping dynamodb failed: Error: dynamodb cannot stop');
    expect(seen).toEqual(['start port', 'start dynamodb', 'start server', 'stop server', 'stop port']);
  });

  it("keeps a start's own error when a phase also fails to stop on the way back (the stop failure is logged)", async () => {
    // Prepare
    const seen: string[] = [];
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});

    // Act
    const start = startPhases(recorded(['port', 'dynamodb', 'server'], seen, { start: 'server', stop: 'dynamodb' }));

    // Assess
    await expect(start).rejects.toThrow('server cannot start');
    expect(seen).toEqual(['start port', 'start dynamodb', 'stop port']);
    expect(String(logged.mock.calls[0]?.[1])).toContain('stopping dynamodb failed');
    logged.mockRestore();
  });
});
