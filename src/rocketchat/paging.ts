import { badUserInput, type GatewayError } from '../errors.js';

/**
 * Relay connections over Rocket.Chat's offset pagination. Cursors are opaque to clients: the kind
 * of item and its position, base64url-encoded, so a cursor of one connection is refused by another.
 */
export interface Page<T> {
  items: T[];
  /** The offset of the first item of the page. */
  offset: number;
  total: number;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

/**
 * The connection fields, with the page size `first` defaults to and may not exceed (Rocket.Chat
 * itself caps `count` at 100). Read by the loaders and by the limits (limits.ts), which cost a page
 * by these sizes. A null prototype: field names from documents are looked up here.
 */
export const PAGE_SIZES: Readonly<Record<string, { defaultSize: number; max: number }>> = Object.assign(Object.create(null), {
  chats: { defaultSize: 10, max: 50 },
  searchVisitors: { defaultSize: 20, max: 50 },
});

/**
 * What a connection field's `first` and `after` ask for, or the caller's BAD_USER_INPUT: `first`
 * within the field's page size, `after` a cursor of `kind` this gateway issued.
 */
export function pageRequest(
  field: 'chats' | 'searchVisitors',
  kind: string,
  first: number | null | undefined,
  after: string | null | undefined,
): { offset: number; count: number } | GatewayError {
  const { defaultSize, max } = PAGE_SIZES[field]!;
  const count = first ?? defaultSize;
  if (!Number.isInteger(count) || count < 0 || count > max) return badUserInput(`${field}(first) takes 0 to ${max}; got ${count}.`);
  const offset = after == null ? 0 : offsetAfter(kind, after);
  if (offset === undefined) return badUserInput(`${field}(after) is not a cursor this gateway gave.`);
  return { offset, count };
}

export function cursorOf(kind: string, offset: number): string {
  return Buffer.from(`${kind}:${offset}`).toString('base64url');
}

/** The offset just after the item a cursor names, or undefined for anything this gateway did not issue. */
export function offsetAfter(kind: string, cursor: string): number | undefined {
  if (cursor.length > 40) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!text.startsWith(`${kind}:`)) return undefined;
  const digits = text.slice(kind.length + 1);
  if (!/^\d{1,9}$/.test(digits)) return undefined;
  const offset = Number(digits);
  // Node's decoder skips stray characters and padding: only the exact text this gateway issues counts.
  return cursorOf(kind, offset) === cursor ? offset + 1 : undefined;
}

export function edgesOf<T>(kind: string, page: Page<T>): Edge<T>[] {
  return page.items.map((node, i) => ({ cursor: cursorOf(kind, page.offset + i), node }));
}

export function pageInfoOf(
  kind: string,
  page: Page<unknown>,
): { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null } {
  const n = page.items.length;
  return {
    hasNextPage: page.offset + n < page.total,
    hasPreviousPage: page.offset > 0,
    startCursor: n ? cursorOf(kind, page.offset) : null,
    endCursor: n ? cursorOf(kind, page.offset + n - 1) : null,
  };
}
