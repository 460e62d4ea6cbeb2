/**
 * How many bytes of upstream JSON a visitor came from, so that the response budget
 * (MAX_RESPONSE_BYTES) is counted from what is already known rather than by serialising each
 * visitor again. The client records the body's length as it parses it; a visitor that arrived
 * another way (a test double, a cache) is measured once, on first use.
 */
const sizes = new WeakMap<object, number>();

export function recordWireSize(visitor: object, bytes: number): void {
  sizes.set(visitor, bytes);
}

export function wireSize(visitor: object): number {
  let size = sizes.get(visitor);
  if (size === undefined) sizes.set(visitor, (size = JSON.stringify(visitor).length));
  return size;
}
