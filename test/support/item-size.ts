import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

/**
 * An item's size as DynamoDB counts it for capacity (developer guide, "Item sizes and formats"): each attribute's
 * name (UTF-8) plus its value: a string its UTF-8 bytes, a number about one byte per two significant digits plus
 * one, binary its bytes, null or a boolean 1, a string set the bytes of its strings, a map or list 3 plus 1 per
 * element plus its elements (a map's keys counted as names).
 */
export function itemSize(item: Record<string, unknown>): number {
  return attributeValuesSize(marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false }));
}

/** The same of an item in the low-level form (`{ pk: { S: ... } }`). */
export function attributeValuesSize(attrs: Record<string, AttributeValue>): number {
  return Object.entries(attrs).reduce((n, [name, v]) => n + Buffer.byteLength(name) + valueSize(v), 0);
}

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|^0+/g, '').length / 2) + 1;
  if (v.B !== undefined) return v.B.byteLength;
  if (v.SS !== undefined) return v.SS.reduce((n, e) => n + Buffer.byteLength(e), 0);
  if (v.NULL !== undefined || v.BOOL !== undefined) return 1;
  if (v.M !== undefined) {
    return 3 + Object.entries(v.M).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k) + valueSize(e), 0);
  }
  if (v.L !== undefined) return 3 + v.L.reduce((n, e) => n + 1 + valueSize(e), 0);
  throw new Error(`no size for ${Object.keys(v).join(',')}`);
}
