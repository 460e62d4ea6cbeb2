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

export function pageInfoOf(kind: string, page: Page<unknown>): { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null } {
  const n = page.items.length;
  return {
    hasNextPage: page.offset + n < page.total,
    hasPreviousPage: page.offset > 0,
    startCursor: n ? cursorOf(kind, page.offset) : null,
    endCursor: n ? cursorOf(kind, page.offset + n - 1) : null,
  };
}
