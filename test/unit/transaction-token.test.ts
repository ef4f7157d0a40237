import { describe, expect, it } from 'vitest';
import { transactionToken } from '#shared/store/store.ts';

/** The ClientRequestToken of a DynamoDB transaction: the same for the same writes, new for other writes. */
describe('transactionToken', () => {
  const put = (id: string) => [
    {
      Put: { TableName: 't', Item: { pk: `ROLE#${id}`, sk: 'ROLE' }, ConditionExpression: 'attribute_not_exists(pk)' },
    },
  ];

  it('is the same for every send of the same transaction, within DynamoDB limits (1-36 characters)', () => {
    const token = transactionToken(put('a'));
    expect(transactionToken(put('a'))).toBe(token);
    expect(token).toMatch(/^[A-Za-z0-9_-]{36}$/);
  });

  it('differs when the transaction writes anything else', () => {
    expect(transactionToken(put('a'))).not.toBe(transactionToken(put('b')));
  });
});
