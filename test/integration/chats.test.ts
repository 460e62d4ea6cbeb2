/**
 * Visitor.chats through the whole gateway, against the demo Rocket.Chat's visitors.chatHistory:
 * the Relay connection across pages, the room used for the access check, no call without a last
 * chat, refusals on the field only, and the agents and departments of chats shared with the rest
 * of the operation.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_CHATS, OPEN_CHAT_ID } from '../../src/demo/chats.js';
import type { RecordedRequest } from '../../src/demo/upstream.js';
import { DEMO_LIMITED_CREDENTIALS, DEMO_VISITORS, FULL_VISITOR_ID, MINIMAL_VISITOR_ID, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import type { WireVisitor } from '../../src/rocketchat/models.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { useServers } from '../helpers/servers.js';

const servers = useServers();
const HISTORY = '/api/v1/livechat/visitors.chatHistory/';
const historyCalls = (requests: RecordedRequest[]) => requests.filter((r) => r.path.startsWith(HISTORY));
const PAGE = 'totalCount edges { cursor node { id open } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';

describe('chats', () => {
  it("pages through the full visitor's 3 chats, newest first, two at a time, with opaque cursors", async () => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    const first = await gateway.post({ query: `{ visitor(id: "${FULL_VISITOR_ID}") { chats(first: 2) { ${PAGE} } } }` }, DEMO_HEADERS);
    expect(first.body.errors).toBeUndefined();
    const page1 = first.body.data!.visitor.chats;
    expect(page1.totalCount).toBe(3);
    expect(page1.edges.map((e: { node: { id: string; open: boolean } }) => [e.node.id, e.node.open])).toEqual([
      [OPEN_CHAT_ID, true],
      ['cLoSeDcHaT2024May', false],
    ]);
    expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(page1.pageInfo.endCursor).not.toMatch(/^\d+$/); // opaque, not the offset itself
    const second = await gateway.post(
      {
        query: `query($after: String) { visitor(id: "${FULL_VISITOR_ID}") { chats(first: 2, after: $after) { ${PAGE} } } }`,
        variables: { after: page1.pageInfo.endCursor },
      },
      DEMO_HEADERS,
    );
    const page2 = second.body.data!.visitor.chats;
    expect(page2.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(['cLoSeDcHaT2024Apr']);
    expect(page2.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const calls = historyCalls(upstream.requests);
    expect(calls.map((c) => `${c.path}?${c.search}`)).toEqual([
      `${HISTORY}room/${OPEN_CHAT_ID}/visitor/${FULL_VISITOR_ID}?offset=0&count=2`,
      `${HISTORY}room/${OPEN_CHAT_ID}/visitor/${FULL_VISITOR_ID}?offset=2&count=2`,
    ]);
  });

  it("the seed visitor (the README's example) has two closed chats, newest first, from one history call", async () => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    const res = await gateway.post(
      {
        query: `{ visitor(id: "${SEED_VISITOR_ID}") { chats { totalCount edges { node { id open startedAt closedAt messagesCount department { name } servedBy { name } } } } } }`,
      },
      DEMO_HEADERS,
    );
    expect(res.body.errors).toBeUndefined();
    const chats = res.body.data!.visitor.chats;
    expect(chats.totalCount).toBe(2);
    expect(chats.edges.map((e: { node: { id: string; open: boolean } }) => [e.node.id, e.node.open])).toEqual([
      ['sEeDcHaT23NoV0317', false],
      ['sEeDcHaT23ApR0407', false],
    ]);
    expect(chats.edges[0].node).toMatchObject({ department: { name: 'Support' }, servedBy: { name: 'Alex Smith' }, messagesCount: 5 });
    expect(historyCalls(upstream.requests)).toHaveLength(1);
  });

  it('a visitor without a last chat has an empty connection and costs no history call', async () => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    const res = await gateway.post({ query: `{ visitor(id: "${MINIMAL_VISITOR_ID}") { chats { ${PAGE} } } }` }, DEMO_HEADERS);
    expect(res.body).toEqual({
      data: { visitor: { chats: { totalCount: 0, edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } } } },
    });
    expect(historyCalls(upstream.requests)).toHaveLength(0);
  });

  it('first: 0 answers the total alone; first over 50 and a cursor the gateway did not give are BAD_USER_INPUT without a call', async () => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    const total = await gateway.post({ query: `{ visitor(id: "${FULL_VISITOR_ID}") { chats(first: 0) { totalCount edges { cursor } } } }` }, DEMO_HEADERS);
    expect(total.body.data!.visitor.chats).toEqual({ totalCount: 3, edges: [] });
    upstream.reset();
    // Written in the document, a page over 50 is refused before execution; from a variable, at the field.
    const literal = await gateway.post({ query: `{ visitor(id: "${FULL_VISITOR_ID}") { chats(first: 51) { totalCount } } }` }, DEMO_HEADERS);
    expect(literal.status).toBe(400);
    expect(literal.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const variable = await gateway.post(
      { query: `query($n: Int) { visitor(id: "${FULL_VISITOR_ID}") { id chats(first: $n) { totalCount } } }`, variables: { n: 51 } },
      DEMO_HEADERS,
    );
    expect(variable.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    for (const args of ['after: "bm90LWEtY3Vyc29y"', 'after: "Y2hhdDow=="', 'after: "Y2hh*dDow"']) {
      const res = await gateway.post({ query: `{ visitor(id: "${FULL_VISITOR_ID}") { id chats(${args}) { totalCount } } }` }, DEMO_HEADERS);
      expect(res.body.data!.visitor).toBeNull();
      expect(res.body.errors?.[0]?.extensions?.code, args).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0]?.path).toEqual(['visitor', 'chats']);
    }
    expect(historyCalls(upstream.requests)).toHaveLength(0);
  });

  it('a last room the caller cannot see (invalid-room) is FORBIDDEN on chats only', async () => {
    const stale: WireVisitor = { _id: 'sTaLeRoOmViSiT001', name: 'Stale', lastChat: { _id: 'nOtAlIvEcHaTrOoM', ts: '2024-01-01T00:00:00.000Z' } };
    const upstream = await servers.demo({ record: true, visitors: [...DEMO_VISITORS, stale] });
    const gateway = await servers.gateway(upstream.url);
    const res = await gateway.post({ query: `{ visitor(id: "${stale._id}") { name chats { totalCount } } }` }, DEMO_HEADERS);
    // chats is non-null, so its error nulls the visitor; the error names the field.
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors![0]).toMatchObject({
      path: ['visitor', 'chats'],
      extensions: { code: 'FORBIDDEN', upstream: { status: 400, error: 'invalid-room' } },
    });
  });

  it("the console query: a chat's agent already loaded as the last agent costs no second users.info call", async () => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    const res = await gateway.post(
      {
        query: `{ visitor(id: "${FULL_VISITOR_ID}") {
          name status department { name }
          lastAgent { agent { name } }
          contactManager { user { name } }
          chats(first: 10) { totalCount edges { node { id department { name } servedBy { name } } } }
        } }`,
      },
      DEMO_HEADERS,
    );
    expect(res.body.errors).toBeUndefined();
    const chats = res.body.data!.visitor.chats.edges.map((e: { node: { servedBy: { name: string }; department: { name: string } } }) => [
      e.node.servedBy.name,
      e.node.department.name,
    ]);
    expect(chats).toEqual([
      ['Alex Smith', 'Support'],
      ['Morgan Jones', 'Chatbot Sales'],
      ['Alex Smith', 'Support'],
    ]);
    const byPath = (p: string) => upstream.requests.filter((r) => r.path.includes(p)).length;
    expect(byPath('users.info')).toBe(2);
    expect(byPath('visitors.info')).toBe(1);
    expect(byPath('visitors.chatHistory')).toBe(1);
    // The visitor's department comes first; the chats' other department after the history arrives.
    expect(byPath('department.listByIds')).toBe(2);
    const line = gateway.logs.filter((l) => l.msg === 'graphql operation').at(-1);
    expect(line).toMatchObject({ upstreamCalls: 6 });
  });

  it('a caller without view-l-room is refused before any chat is read', async () => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    const res = await gateway.post(
      { query: `{ visitor(id: "${FULL_VISITOR_ID}") { chats { totalCount } } }` },
      { 'x-auth-token': DEMO_LIMITED_CREDENTIALS.authToken, 'x-user-id': DEMO_LIMITED_CREDENTIALS.userId },
    );
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(historyCalls(upstream.requests)).toHaveLength(0);
  });

  it('a page of chats counts against MAX_RESPONSE_BYTES: a history too big for the answer is RESPONSE_TOO_LARGE, not a huge response', async () => {
    const huge = DEMO_CHATS.map((c) => ({ ...c, tags: Array.from({ length: 20_000 }, (_, i) => `tag-${i}`) }));
    const upstream = await servers.demo({ record: true, chats: huge });
    const gateway = await servers.gateway(upstream.url, { MAX_RESPONSE_BYTES: String(64 * 1024) });
    const res = await gateway.post({ query: `{ visitor(id: "${FULL_VISITOR_ID}") { chats { edges { node { tags } } } } }` }, DEMO_HEADERS);
    expect(res.status).toBe(200);
    expect(res.body.errors?.[0]).toMatchObject({ path: ['visitor', 'chats'], extensions: { code: 'RESPONSE_TOO_LARGE' } });
    expect(JSON.stringify(res.body).length).toBeLessThan(64 * 1024);
  });
});
