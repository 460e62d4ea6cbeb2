import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS, DEMO_LIMITED_CREDENTIALS, DEMO_VISITORS, FULL_VISITOR_ID, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import type { RocketChatClient } from '../../src/rocketchat/client.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { useServers } from '../helpers/servers.js';
import { otherRoutes } from '../helpers/otherRoutes.js';

const LIMITED_HEADERS = { 'x-auth-token': DEMO_LIMITED_CREDENTIALS.authToken, 'x-user-id': DEMO_LIMITED_CREDENTIALS.userId };
const ONE = { query: `{ visitor(id: "${SEED_VISITOR_ID}") { id name } }` };

const servers = useServers();
const demo = () => servers.demo();
const fake = servers.fake;
const gatewayFor = servers.gateway;

/** Runs `total` calls of `fn` with at most `concurrency` at once. */
async function pool<T>(total: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(total);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

describe('production mode', () => {
  it('hides introspection (unless INTROSPECTION=true), suggestions, stack traces and the Sandbox', async () => {
    const upstream = await demo();
    const prod = await gatewayFor(upstream.url, { NODE_ENV: 'production' });
    const dev = await gatewayFor(upstream.url);

    const typo = { query: `{ visitor(id: "${SEED_VISITOR_ID}") { nmae } }` };
    expect((await dev.post(typo)).body.errors![0]!.message).toMatch(/Did you mean "name"/);
    const prodTypo = await prod.post(typo);
    expect(prodTypo.status).toBe(400);
    expect(prodTypo.body.errors![0]!.message).not.toMatch(/Did you mean/);
    expect(prodTypo.body.errors![0]!.extensions!.stacktrace).toBeUndefined();

    expect((await prod.post({ query: '{ __schema { queryType { name } } }' })).status).toBe(400);
    const opened = await gatewayFor(upstream.url, { NODE_ENV: 'production', INTROSPECTION: 'true' });
    expect((await opened.post({ query: '{ __schema { queryType { name } } }' })).body.data).toEqual({
      __schema: { queryType: { name: 'Query' } },
    });

    // Production shows Apollo's static production page, never the Sandbox with an example and headers.
    const page = await (await fetch(prod.url, { headers: { accept: 'text/html' } })).text();
    const devPage = await (await fetch(dev.url, { headers: { accept: 'text/html' } })).text();
    expect(devPage).toContain('visitor(id: $id)');
    expect(page).not.toContain('visitor(id: $id)');
    expect(page).not.toContain('X-Auth-Token');
  });

  it('masks an unexpected error as INTERNAL_SERVER_ERROR with the request id, and logs it in full', async () => {
    const broken: RocketChatClient = {
      ...otherRoutes(),
      async getVisitor() {
        throw new Error('database password is hunter2 at /srv/secret.js:42');
      },
      async serverInfo() {
        return { version: '8.4.1', success: true };
      },
      async close() {},
    };
    const gateway = await gatewayFor('http://127.0.0.1:1', { NODE_ENV: 'production' }, { client: broken });
    const res = await gateway.post(ONE, { ...DEMO_HEADERS, 'x-request-id': 'trace-me-42' });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ visitor: null });
    const error = res.body.errors![0]!;
    expect(error.message).toBe('Internal server error');
    expect(error.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: 'trace-me-42' });
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
    const logged = gateway.logs.find((l) => l.requestId === 'trace-me-42' && l.level === 50);
    expect(JSON.stringify(logged)).toContain('hunter2');
  });
});

describe('headers upstream', () => {
  it('sends only the credentials, the request id and our own X-Real-IP; never hop-by-hop, cookies, Authorization or X-Forwarded-*', async () => {
    const upstream = await demo();
    const gateway = await gatewayFor(upstream.url);
    await gateway.post(ONE, {
      ...DEMO_HEADERS,
      'x-request-id': 'rid-1',
      authorization: 'Bearer nope',
      cookie: 'rc_token=nope',
      'proxy-authorization': 'Basic nope',
      te: 'trailers',
      'x-forwarded-for': '198.51.100.7',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'http',
      'x-real-ip': '198.51.100.8',
      forwarded: 'for=198.51.100.9',
      via: '1.1 evil',
      'x-custom-thing': 'nope',
    });
    const sent = upstream.requests[0]!.headers;
    expect(Object.keys(sent).sort()).toEqual(['accept', 'connection', 'host', 'x-auth-token', 'x-real-ip', 'x-request-id', 'x-user-id'].sort());
    expect(sent['x-real-ip']).toBe('127.0.0.1');
    expect(sent.connection).toBe('keep-alive');
  });

  it.each([
    ['a tab', 'abc\tdef', 200],
    ['over 512 characters', 'a'.repeat(513), 200],
    ['non-ASCII bytes', 't\xf6k\xe9n', 200],
    ['a space', 'abc def', 200],
    // Node's HTTP parser refuses this one before the gateway sees it.
    ['DEL', 'abc\x7fdef', 400],
  ])('refuses a credential with %s without an upstream call', async (_name, value, status) => {
    const upstream = await demo();
    const gateway = await gatewayFor(upstream.url);
    // Raw bytes on a socket: HTTP clients refuse to send such headers, attackers do not.
    const { port } = new URL(gateway.url);
    const body = JSON.stringify(ONE);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.end(
          Buffer.from(
            `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\n` +
              `X-User-Id: ${DEMO_CREDENTIALS.userId}\r\nX-Auth-Token: ${value}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
            'latin1',
          ),
        );
      });
      let text = '';
      socket.on('data', (c) => (text += c.toString('latin1')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw.slice(0, 12)).toBe(`HTTP/1.1 ${status}`);
    expect(upstream.calls).toBe(0);
    if (status !== 200) return;
    const parsed = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
    expect(parsed.data).toEqual({ visitor: null });
    expect(parsed.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(upstream.calls).toBe(0);
  });
});

describe('logs', () => {
  it('a whole run with known tokens logs none of them, and one line per operation', async () => {
    const upstream = await demo();
    const secretToken = 'KnownSecretTokenValue0123456789abcdefghijkl';
    const gateway = await gatewayFor(upstream.url, { LOG_LEVEL: 'trace' });
    const runs: Array<Record<string, string>> = [
      DEMO_HEADERS,
      LIMITED_HEADERS,
      { 'x-auth-token': secretToken, 'x-user-id': 'someUserId0000001' },
      { 'x-auth-token': `${secretToken}\t`, 'x-user-id': 'someUserId0000001' },
      { 'x-auth-token': secretToken },
    ];
    for (const [i, headers] of runs.entries()) {
      await gateway.post(
        { query: `query Op${i} { visitor(id: "${SEED_VISITOR_ID}") { id } a: visitor(id: "unknownVisitor01") { id } }` },
        {
          ...headers,
          authorization: `Bearer ${secretToken}`,
          cookie: `rc_token=${secretToken}`,
        },
      );
    }
    const text = JSON.stringify(gateway.logs);
    for (const secret of [secretToken, DEMO_CREDENTIALS.authToken, DEMO_LIMITED_CREDENTIALS.authToken]) {
      expect(text).not.toContain(secret);
    }
    const operations = gateway.logs.filter((l) => l.msg === 'graphql operation');
    expect(operations.map((l) => l.operationName)).toEqual(['Op0', 'Op1', 'Op2', 'Op3', 'Op4']);
    expect(operations[0]).toMatchObject({ upstreamCalls: 2, outcome: 'error', codes: ['NOT_FOUND'] });
    expect(operations[1]).toMatchObject({ codes: ['FORBIDDEN'] });
    expect(operations[4]).toMatchObject({ upstreamCalls: 0, codes: ['UNAUTHENTICATED'] });
    for (const line of operations) {
      expect(typeof line.requestId).toBe('string');
      expect(typeof line.durationMs).toBe('number');
    }
  });
});

describe('isolation under load', () => {
  it('two callers with different permissions on the same ids, 2000 operations at once: zero cross-caller leaks', async () => {
    const upstream = await demo();
    const gateway = await gatewayFor(upstream.url);
    const ids = [SEED_VISITOR_ID, FULL_VISITOR_ID];
    const results = await pool(2000, 64, async (i) => {
      const full = i % 2 === 0;
      const res = await gateway.post(
        { query: 'query($ids: [ID!]!) { visitors(ids: $ids) { id name } }', variables: { ids: i % 3 === 0 ? [...ids].reverse() : ids } },
        full ? DEMO_HEADERS : LIMITED_HEADERS,
      );
      return { full, res, order: i % 3 === 0 ? [...ids].reverse() : ids };
    });
    let leaks = 0;
    for (const { full, res, order } of results) {
      if (full) {
        if (res.body.errors || res.body.data!.visitors.map((v: { id: string }) => v.id).join() !== order.join()) leaks++;
      } else if (res.body.data!.visitors.some((v: unknown) => v !== null) || !res.body.errors!.every((e) => e.extensions!.code === 'FORBIDDEN')) {
        leaks++;
      }
    }
    expect(leaks).toBe(0);
  });

  it('per-caller upstream answers never reach another caller, even with coalescing at work', async () => {
    // The upstream answers each caller with its own name, slowly, so concurrent calls overlap.
    const seed = DEMO_VISITORS.find((v) => v._id === SEED_VISITOR_ID)!;
    const upstream = await fake((req) => ({
      status: 200,
      delayMs: 5,
      body: { visitor: { ...seed, _id: req.query.visitorId, name: `for ${req.headers['x-user-id']}` }, success: true },
    }));
    const gateway = await gatewayFor(upstream.url);
    const callers = ['userAAAAAAAAAAAAA', 'userBBBBBBBBBBBBB', 'userCCCCCCCCCCCCC'];
    const results = await pool(1500, 48, async (i) => {
      const user = callers[i % callers.length]!;
      const res = await gateway.post(
        { query: 'query($id: ID!) { visitor(id: $id) { id name } }', variables: { id: `visitor${i % 7}` } },
        { 'x-auth-token': `token-of-${user}`, 'x-user-id': user },
      );
      return { user, name: res.body.data?.visitor?.name };
    });
    expect(results.filter((r) => r.name !== `for ${r.user}`)).toEqual([]);
    expect(upstream.calls).toBeLessThanOrEqual(1500);
  });
});
