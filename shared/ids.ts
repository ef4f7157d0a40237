import { randomBytes } from 'node:crypto';

/**
 * Time-ordered ids (ULID layout: 48-bit time + 80 random bits, Crockford base32), prefixed by kind.
 * They sort by creation time and are valid Step Functions execution names. Within one process they are
 * monotonic: two ids of the same millisecond keep the order they were made in (the random part of the
 * second is the first's plus one), so events written by one call sort in the order they happened.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastTime = -1;
let lastRandom: number[] = [];

function nextRandom(time: number): number[] {
  if (time === lastTime) {
    const digits = [...lastRandom];
    for (let i = digits.length - 1; i >= 0; i--) {
      if ((digits[i] as number) < 31) {
        digits[i] = (digits[i] as number) + 1;
        break;
      }
      digits[i] = 0;
    }
    lastRandom = digits;
    return digits;
  }
  const bytes = randomBytes(16);
  lastTime = time;
  // Leave headroom in the top digit so increments within one millisecond cannot wrap around.
  lastRandom = Array.from(bytes, (b, i) => (i === 0 ? b % 16 : b % 32));
  return lastRandom;
}

export function ulid(at: Date): string {
  const ms = at.getTime();
  let time = ms;
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = ALPHABET[time % 32] + head;
    time = Math.floor(time / 32);
  }
  return (
    head +
    nextRandom(ms)
      .map((d) => ALPHABET[d])
      .join('')
  );
}

export type IdKind = 'req' | 'asg' | 'evt' | 'evo' | 'exp' | 'rev' | 'rvi' | 'chg';

export const newId = (kind: IdKind, at: Date): string => `${kind}_${ulid(at)}`;
