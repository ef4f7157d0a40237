import { describe, expect, it } from 'vitest';
import { normalizeText } from '#shared/domain/text.ts';

describe('normalizeText', () => {
  it('makes text of invisible characters blank', () => {
    for (const text of [
      '\u200b',
      '\u3164\u115f\u1160\uffa0',
      '\u200d\u2060\ufeff\u202e\u00ad',
      '\u0000\u001b\u007f\u0085',
      '\ufe0f\u{e0041}',
    ]) {
      expect(normalizeText(text), JSON.stringify(text)).toBe('');
    }
  });

  it('composes to NFC, turns line breaks into spaces, trims, and keeps visible text as it is', () => {
    expect(normalizeText('  Cafe\u0301\r\nline\u2028two\t ')).toBe('Café  line two');
    expect(normalizeText('INC-42 ünïcödé 漢字 한국어')).toBe('INC-42 ünïcödé 漢字 한국어');
  });

  it('is idempotent', () => {
    const samples = ['\u3164a\u200bb\u0301\n', ' x\u202ey ', 'e\u0301\u200be\u0301'];
    for (const s of samples) expect(normalizeText(normalizeText(s))).toBe(normalizeText(s));
  });
});
