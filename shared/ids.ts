import { randomBytes } from 'node:crypto';

/**
 * Time-ordered ids (ULID layout: 48-bit time + 80 random bits, Crockford base32), prefixed by kind.
 * They sort by creation time and are valid Step Functions execution names.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function ulid(at: Date): string {
  let time = at.getTime();
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = ALPHABET[time % 32] + head;
    time = Math.floor(time / 32);
  }
  const bytes = randomBytes(16);
  let tail = '';
  for (let i = 0; i < 16; i++) tail += ALPHABET[(bytes[i] as number) % 32];
  return head + tail;
}

export type IdKind = 'req' | 'asg' | 'evt' | 'exp';

export const newId = (kind: IdKind, at: Date): string => `${kind}_${ulid(at)}`;
