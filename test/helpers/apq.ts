import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { TestGateway } from './gateway.js';

/** Automatic persisted queries as Apollo's clients send them. */
export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Registers `query` (APQ with the document) or asks for it by hash only; answers the error code, if any. */
export async function persisted(gateway: TestGateway, query: string, register: boolean): Promise<string | undefined> {
  const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
  const res = await gateway.post(register ? { query, extensions } : { extensions });
  return res.body.errors?.[0]?.extensions?.code as string | undefined;
}

/** Registers `count` distinct small documents, `parallel` at a time. */
export async function flood(gateway: TestGateway, count: number, parallel = 8, padding = 0): Promise<string[]> {
  const documents = Array.from({ length: count }, (_, i) => `query Flood${i} { __typename }${padding ? ` # ${'x'.repeat(padding)}` : ''}`);
  for (let i = 0; i < documents.length; i += parallel) {
    const codes = await Promise.all(documents.slice(i, i + parallel).map((d) => persisted(gateway, d, true)));
    expect(codes.every((c) => c === undefined)).toBe(true);
  }
  return documents;
}
