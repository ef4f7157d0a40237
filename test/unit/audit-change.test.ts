import { describe, expect, it } from 'vitest';
import { eventOfChange, REQUEST_CREATED } from '#shared/domain/audit.ts';

/** One audit event per change (api.md; issue 18, cut 3): the rule that names a change's one event. */
describe('eventOfChange', () => {
  const request = { id: 'req-1', action: 'selfActivate', status: 'Granted' };
  const created = {
    target: { principalId: 'alice', roleId: 'db', scope: '/', assignmentId: null, requestId: 'req-1' },
    request,
  };

  it('records a request carried out in the change in the event of the change itself, none of its own', () => {
    // Prepare
    const change = {
      action: 'assignment.activated',
      target: { principalId: 'alice', roleId: 'db', scope: '/', assignmentId: 'asg-1' },
      details: { assignment: { id: 'asg-1' } },
    };

    // Act
    const event = eventOfChange(created, change);

    // Assess
    expect(event).toEqual({
      action: 'assignment.activated',
      target: { principalId: 'alice', roleId: 'db', scope: '/', assignmentId: 'asg-1', requestId: 'req-1' },
      details: { assignment: { id: 'asg-1' }, request },
    });
  });

  it('names the request created even when the change named another (an ended assignment names its own)', () => {
    // Prepare
    const change = {
      action: 'assignment.revoked',
      target: { principalId: 'alice', roleId: 'db', scope: '/', assignmentId: 'asg-0', requestId: 'req-0' },
      details: { assignment: { id: 'asg-0', status: 'Revoked' } },
    };

    // Act
    const event = eventOfChange(created, change);

    // Assess
    expect(event.action).toBe('assignment.revoked');
    expect(event.target).toMatchObject({ assignmentId: 'asg-0', requestId: 'req-1' });
    expect(event.details).toEqual({ assignment: { id: 'asg-0', status: 'Revoked' }, request });
  });

  it('records a request created on its own (it waits for an approval or its start) as request.created', () => {
    // Act
    const event = eventOfChange(created);

    // Assess
    expect(REQUEST_CREATED).toBe('request.created');
    expect(event).toEqual({ action: 'request.created', target: created.target, details: { request } });
  });

  it('refuses a change whose event already records a request (it would lose one)', () => {
    // Prepare
    const change = { action: 'assignment.updated', target: {}, details: { request: { id: 'req-0' } } };

    // Act, Assess
    expect(() => eventOfChange(created, change)).toThrow(/already records a request/);
  });
});
