/**
 * Free text people type (a justification, a ticket): what is stored, checked and shown is its normalised form,
 * so text that shows nothing is blank, and a rule that asks for text is not met by invisible characters.
 */

/** Controls that separate words or lines (tab, LF, CR, VT, FF, NEL) and the line and paragraph separators. */
const SPACING = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
/**
 * Characters that show nothing: the other controls (Cc), format characters (Cf: zero-width spaces and joiners,
 * bidi controls, the BOM) and the rest of Unicode's default-ignorable code points (the Hangul fillers U+115F,
 * U+1160, U+3164 and U+FFA0, variation selectors, tags, the soft hyphen).
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * NFC; spacing controls become a space; the other control, format and default-ignorable characters are
 * removed; then trimmed. Idempotent. `'\u200b\u3164 '` becomes `''`; `'INC-1\nsee log'` becomes `'INC-1 see log'`.
 */
export function normalizeText(text: string): string {
  return text.normalize('NFC').replace(SPACING, ' ').replace(INVISIBLE, '').normalize('NFC').trim();
}
