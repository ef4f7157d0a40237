import { describe, expect, it } from 'vitest';
import { transactionToken } from '#shared/store/store.ts';

/** The ClientRequestToken of a DynamoDB transaction: the same for every send of one call's writes, new otherwise. */
describe('transactionToken', () => {
  const put = (id: string) => [
    {
      Put: { TableName: 't', Item: { pk: `ROLE#${id}`, sk: 'ROLE' }, ConditionExpression: 'attribute_not_exists(pk)' },
    },
  ];

  it("is the same for every send of one call's transaction, within DynamoDB limits (1-36 characters)", () => {
    const token = transactionToken('call-1', put('a'));
    expect(transactionToken('call-1', put('a'))).toBe(token);
    expect(token).toMatch(/^[A-Za-z0-9_-]{36}$/);
  });

  it('differs when the transaction writes anything else', () => {
    expect(transactionToken('call-1', put('a'))).not.toBe(transactionToken('call-1', put('b')));
  });

  it('differs for another call writing the very same items, so that one of two racing writers fails its condition', () => {
    expect(transactionToken('call-1', put('a'))).not.toBe(transactionToken('call-2', put('a')));
  });
});
