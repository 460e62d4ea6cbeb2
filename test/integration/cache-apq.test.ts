import { describe, expect, it } from 'vitest';
import { SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { flood, persisted } from '../helpers/apq.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { useServers } from '../helpers/servers.js';

/** Automatic persisted queries in process memory: their own LRU, bounded in bytes. */
const servers = useServers();
const ONE = { query: `query One { visitor(id: "${SEED_VISITOR_ID}") { id name } }` };

describe('persisted queries in memory', () => {
  it('work with the visitor cache off: not found, registered, then served by hash', async () => {
    const gateway = await servers.gateway((await servers.demo()).url);
    const query = 'query Apq { __typename }';
    expect(await persisted(gateway, query, false)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await persisted(gateway, query, true)).toBeUndefined();
    expect(await persisted(gateway, query, false)).toBeUndefined();
  });

  it('are off with APQ_MEMORY_BYTES=0', async () => {
    const gateway = await servers.gateway((await servers.demo()).url, { APQ_MEMORY_BYTES: '0' });
    expect(await persisted(gateway, 'query Apq { __typename }', true)).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
  });

  it('a flood keeps within APQ_MEMORY_BYTES and never pushes out a cached visitor', async () => {
    const upstream = await servers.demo();
    const gateway = await servers.gateway(upstream.url, { CACHE_TTL_MS: '60000', APQ_MEMORY_BYTES: '16384' });
    await gateway.post(ONE, DEMO_HEADERS);
    await gateway.post(ONE, DEMO_HEADERS);
    expect(upstream.calls).toBe(1);

    // About 300 bytes each, 100 KB in all: six times the bound.
    const documents = await flood(gateway, 300, 8, 250);
    expect(await persisted(gateway, documents[0]!, false)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await persisted(gateway, documents.at(-1)!, false)).toBeUndefined();

    expect((await gateway.post(ONE, DEMO_HEADERS)).body.data).toEqual({ visitor: { id: SEED_VISITOR_ID, name: 'Livechat Visitor' } });
    expect(upstream.calls).toBe(1);
  });
});
