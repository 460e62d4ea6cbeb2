/**
 * The whole visitor graph in one operation, as a console asks for it (issue 12's example query),
 * against the demo Rocket.Chat: no errors, and what it costs in Rocket.Chat calls per route.
 * Also the query Apollo Sandbox opens with, which must run as it is.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SANDBOX_DOCUMENT, SANDBOX_VARIABLES } from '../../src/apollo.js';
import { FULL_VISITOR_ID } from '../../src/demo/visitors.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { useServers } from '../helpers/servers.js';
import { CONSOLE_QUERY } from '../helpers/console.js';

const servers = useServers();
const figures: string[] = [];
afterAll(() => {
  if (figures.length) console.log(`graph figures:\n  ${figures.join('\n  ')}`);
});

const CONSOLE = CONSOLE_QUERY;

function callsByRoute(paths: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const path of paths) {
    const route = path
      .replace(/\/room\/.*$/, '')
      .split('/')
      .pop()!;
    counts[route] = (counts[route] ?? 0) + 1;
  }
  return counts;
}

describe('the visitor graph', () => {
  it("answers the console query without errors in 7 Rocket.Chat calls, each route's visitors, departments and agents shared", async () => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    for (let run = 1; run <= 2; run++) {
      upstream.reset();
      const res = await gateway.post({ query: CONSOLE, variables: { id: FULL_VISITOR_ID } }, DEMO_HEADERS);
      expect(res.body.errors).toBeUndefined();
      const { visitor, searchVisitors } = res.body.data!;
      expect(visitor.chats.totalCount).toBe(3);
      expect(visitor.department.name).toBe('Support');
      expect(searchVisitors.edges[0].node).toMatchObject({ id: FULL_VISITOR_ID, status: 'AWAY' });
      const byRoute = callsByRoute(upstream.requests.map((r) => r.path));
      // The hit asks for status, which a hit does not carry: it is the visitor already loaded.
      expect(byRoute).toEqual({ 'visitors.info': 1, 'department.listByIds': 2, 'users.info': 2, 'visitors.chatHistory': 1, 'visitors.search': 1 });
      figures.push(`console query, run ${run} (${run === 1 ? 'graphql-js' : 'graphql-jit'}): ${upstream.calls} Rocket.Chat calls ${JSON.stringify(byRoute)}`);
    }
  });

  it('with the cache on, asks Rocket.Chat nothing the second time, and one confirming visitors.info once the caller is stale', async () => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url, { CACHE_TTL_MS: '60000', CACHE_RECHECK_MS: '1000' });
    const ask = async () => {
      upstream.reset();
      const res = await gateway.post({ query: CONSOLE, variables: { id: FULL_VISITOR_ID } }, DEMO_HEADERS);
      expect(res.body.errors).toBeUndefined();
      return { data: res.body.data, byRoute: callsByRoute(upstream.requests.map((r) => r.path)) };
    };
    const first = await ask();
    expect(first.byRoute).toEqual({ 'visitors.info': 1, 'department.listByIds': 2, 'users.info': 2, 'visitors.chatHistory': 1, 'visitors.search': 1 });
    const second = await ask();
    expect(second.byRoute).toEqual({});
    expect(second.data).toEqual(first.data);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const stale = await ask();
    // The visitor and the search start together: the search waits for the visitor's confirmation.
    expect(stale.byRoute).toEqual({ 'visitors.info': 1 });
    expect(stale.data).toEqual(first.data);
    figures.push(`console query, cache on: ${JSON.stringify(first.byRoute)}, then ${JSON.stringify(second.byRoute)}, stale ${JSON.stringify(stale.byRoute)}`);
  });

  it('runs the query Apollo Sandbox opens with, as it is', async () => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    const res = await gateway.post({ query: SANDBOX_DOCUMENT, variables: SANDBOX_VARIABLES }, DEMO_HEADERS);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.visitor.chats.edges).toHaveLength(3);
    expect(res.body.data!.visitor.lastAgent.agent.name).toBe('Alex Smith');
  });
});
