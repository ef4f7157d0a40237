import * as z from 'zod';

/**
 * What the functions' contracts (one module per API function, so that a function builds only its own schemas at
 * cold start) share. The whole contract, for the OpenAPI document and the tests, is ../contract.ts.
 */
export interface OperationContract {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Honours an Idempotency-Key header (POSTs that create). */
  idempotent?: boolean;
  /** The answers on success; the lowest status is the operation's own (`successStatus`), any other is the exception. */
  responses: Partial<Record<200 | 201 | 202 | 204, { description: string; schema?: z.ZodType; name?: string }>>;
}

/**
 * The status an operation answers when it succeeds: the lowest its contract lists (201 for a create, 202 for an
 * export, 204 for a delete). Higher ones are the exceptions the operation names itself: a change held for a second
 * administrator (202), a request waiting for approval (202).
 */
export const successStatus = (c: OperationContract): number => Math.min(...Object.keys(c.responses).map(Number));

const pages = new Map<z.ZodType, z.ZodType>();
/** A page of items and the cursor of the next (null on the last); `<Item>Page` in the document for a named item. */
export const page = <T extends z.ZodType>(item: T) => {
  const found = pages.get(item) as ReturnType<typeof pageOf<T>> | undefined;
  if (found) return found;
  const made = pageOf(item);
  pages.set(item, made);
  return made;
};
const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextToken: z.string().nullable() });

/**
 * Names each page of a named item `<Item>Page` (zod's global registry, which shared/http/openapi.ts reads), in the
 * order the pages were made. ../contract.ts calls it once the published shapes are named.
 */
export function namePages(): void {
  for (const [item, made] of pages) {
    const id = z.globalRegistry.get(item)?.id;
    if (id && !z.globalRegistry.has(made)) z.globalRegistry.add(made, { id: `${id}Page` });
  }
}

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  nextToken: z.string().min(1).max(4096).optional(),
};

export const Id = z.string().regex(/^[a-z]{3}_[0-9A-Z]{26}$/, 'an Elevate id such as req_01J...');

export const booleanText = z.enum(['true', 'false']).transform((v) => v === 'true');
