/**
 * searchVisitors through the whole gateway, against the demo Rocket.Chat's visitors.search: a hit
 * answers what it carries, any other field loads the whole visitor (never a silent null), and the
 * connection pages through the hits.
 */
import { describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../src/demo/upstream.js';
import { DEMO_VISITORS, FULL_VISITOR_ID } from '../../src/demo/visitors.js';
import type { WireVisitor } from '../../src/rocketchat/models.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { useServers } from '../helpers/servers.js';

const servers = useServers();
const calls = (requests: RecordedRequest[], route: string) => requests.filter((r) => r.path.endsWith(route));
const PAGERS: WireVisitor[] = Array.from({ length: 5 }, (_, i) => ({
  _id: `pAgErViSiToR${String(i).padStart(5, '0')}`,
  name: `Pager ${i}`,
  status: i % 2 ? 'away' : 'online',
  ts: `2024-0${i + 1}-01T00:00:00.000Z`,
}));

async function start() {
  const upstream = await servers.demo({ record: true, visitors: [...DEMO_VISITORS, ...PAGERS] });
  const gateway = await servers.gateway(upstream.url);
  return { upstream, gateway };
}

describe('searchVisitors', () => {
  it('answers what a hit carries without loading the visitor', async () => {
    const { upstream, gateway } = await start();
    const res = await gateway.post({ query: '{ searchVisitors(term: "ada") { totalCount edges { node { id name emails { address } } } } }' }, DEMO_HEADERS);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.searchVisitors).toEqual({
      totalCount: 1,
      edges: [{ node: { id: FULL_VISITOR_ID, name: 'Ada Lovelace', emails: [{ address: 'ada@example.org' }, { address: 'ada.lovelace@example.net' }] } }],
    });
    const searches = calls(upstream.requests, 'visitors.search');
    expect(searches).toHaveLength(1);
    expect(new URLSearchParams(searches[0]!.search).get('term')).toBe('ada');
    expect(calls(upstream.requests, 'visitors.info')).toHaveLength(0);
  });

  it('a field a hit does not carry (status) costs one visitors.info call per hit and answers the real value, compiled or not', async () => {
    const { upstream, gateway } = await start();
    const query = { query: '{ searchVisitors(term: "pager", first: 5) { edges { node { id status ...More } } } } fragment More on Visitor { createdAt }' };
    for (let run = 0; run < 2; run++) {
      upstream.reset();
      const res = await gateway.post(query, DEMO_HEADERS);
      expect(res.body.errors).toBeUndefined();
      const nodes = res.body.data!.searchVisitors.edges.map((e: { node: { id: string; status: string; createdAt: string } }) => e.node);
      // Newest first, each with the status and date its visitors.info record has.
      expect(nodes.map((n: { id: string }) => n.id)).toEqual([...PAGERS].reverse().map((v) => v._id));
      for (const node of nodes) {
        const record = PAGERS.find((v) => v._id === node.id)!;
        expect(node.status).toBe(record.status!.toUpperCase());
        expect(node.createdAt).toBe(record.ts);
      }
      expect(calls(upstream.requests, 'visitors.info'), `run ${run + 1}`).toHaveLength(5);
    }
  });

  it('pages through the hits with opaque cursors', async () => {
    const { upstream, gateway } = await start();
    const page = async (after?: string) =>
      (
        await gateway.post(
          {
            query:
              'query($after: String) { searchVisitors(term: "pager", first: 2, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }',
            variables: { after },
          },
          DEMO_HEADERS,
        )
      ).body.data!.searchVisitors;
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 3; i++) {
      const p = await page(after);
      expect(p.totalCount).toBe(5);
      seen.push(...p.edges.map((e: { node: { id: string } }) => e.node.id));
      expect(p.pageInfo.hasNextPage).toBe(i < 2);
      after = p.pageInfo.endCursor;
    }
    expect(seen).toEqual([...PAGERS].reverse().map((v) => v._id));
    expect(calls(upstream.requests, 'visitors.search').map((r) => new URLSearchParams(r.search).get('offset'))).toEqual(['0', '2', '4']);
  });

  it('an empty term or one over 200 characters is BAD_USER_INPUT without a call', async () => {
    const { upstream, gateway } = await start();
    for (const term of ['   ', 'x'.repeat(201)]) {
      const res = await gateway.post({ query: 'query($t: String!) { searchVisitors(term: $t) { totalCount } }', variables: { t: term } }, DEMO_HEADERS);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect(upstream.calls).toBe(0);
  });
});
