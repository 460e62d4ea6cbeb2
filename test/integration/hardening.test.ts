/**
 * The attacks of the hardening report, replayed against the hardened gateway: each test here
 * succeeded as an attack on the code before the hardening commit and must now be refused or
 * bounded. Where the row concerns request handling, the request goes in each shape clients send:
 * a bare POSTed JSON body, the same body with `extensions` (as Apollo Client sends it), and a GET. The memory rows, which need a real process
 * and its heap, are in hardening.memory.test.ts.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { parse } from 'graphql';
import { Client } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEMO_VISITORS, FULL_VISITOR_ID, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { DEMO_HEADERS, GRAPHQL_RESPONSE_ACCEPT, type GraphQLBody } from '../helpers/gateway.js';
import { ensureBuilt, freePort, spawnGateway, waitFor } from '../helpers/process.js';
import { sleep } from '../helpers/promises.js';
import { useServers } from '../helpers/servers.js';

const servers = useServers();
const DEFAULTS = loadConfig({});

/** Figures measured along the way, printed once at the end. */
const figures: string[] = [];
afterAll(() => {
  if (figures.length) console.log(`hardening figures:\n  ${figures.join('\n  ')}`);
});

type Shape = 'bare POST' | 'POST with extensions';
const SHAPES: Shape[] = ['bare POST', 'POST with extensions'];

interface Answer {
  status: number;
  headers: Headers;
  /** The raw body, for its size. */
  text: string;
  body: GraphQLBody;
}

async function answerOf(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: GraphQLBody;
  try {
    body = JSON.parse(text);
  } catch {
    body = { errors: [{ message: text }] };
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** POSTs `body` as is or with `extensions: {}` (Apollo Client's shape). */
async function send(url: string, path: Shape, body: Record<string, unknown>, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<Answer> {
  const sent = path === 'bare POST' ? body : { ...body, extensions: {} };
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE_ACCEPT, ...headers },
    body: JSON.stringify(sent),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return answerOf(res);
}

/** A GET, which only Apollo Server answers; the preflight header satisfies its CSRF prevention. */
async function sendGet(url: string, body: { query: string; variables?: unknown }, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<Answer> {
  const search = new URLSearchParams({ query: body.query });
  if (body.variables !== undefined) search.set('variables', JSON.stringify(body.variables));
  const res = await fetch(`${url}?${search}`, {
    headers: { 'apollo-require-preflight': '1', accept: GRAPHQL_RESPONSE_ACCEPT, ...headers },
    signal: AbortSignal.timeout(timeoutMs),
  });
  return answerOf(res);
}

function codes(answer: Answer): unknown[] {
  return (answer.body.errors ?? []).map((e) => e.extensions?.code);
}

/** Visitor lookups the upstream (demo or fake) answered; `/api/info` is never called in these tests. */
function visitorCalls(upstream: { requests: Array<{ path: string }> }): number {
  return upstream.requests.filter((r) => r.path === '/api/v1/livechat/visitors.info').length;
}

describe('1. a fragment chain (each fragment spreads the next twice)', () => {
  /** `{ ...F0 }` and `links` fragments, each spreading the next twice; the last selects `leaf`. */
  const chain = (prefix: string, links: number, leaf: string) => {
    const parts = [`{ ...${prefix}0 }`];
    for (let i = 0; i < links; i++) parts.push(`fragment ${prefix}${i} on Query { ...${prefix}${i + 1} ...${prefix}${i + 1} }`);
    parts.push(`fragment ${prefix}${links} on Query { ${leaf} }`);
    return parts.join(' ');
  };
  const fits = (query: string) => {
    if (Buffer.byteLength(query) > DEFAULTS.limits.maxQueryBytes) return false;
    try {
      parse(query, { maxTokens: DEFAULTS.limits.maxTokens });
      return true;
    } catch {
      return false;
    }
  };
  /** The longest chain graphql's own token limit and MAX_QUERY_BYTES let through to validation. */
  const longest = (prefix: string, leaf: string) => {
    let links = 1;
    while (fits(chain(prefix, links + 1, leaf)) && links < 10_000) links++;
    return { links, query: chain(prefix, links, leaf) };
  };

  it('the longest chain the limits allow is refused as GRAPHQL_VALIDATION_FAILED within 2 s in every request shape, and /healthz answers within 500 ms meanwhile', async () => {
    ensureBuilt();
    // A child process: a frozen event loop must not freeze the test runner's own timers.
    const port = await freePort();
    const proc = spawnGateway({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', NODE_ENV: 'production' });
    servers.later(async () => {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
      await proc.exited;
    });
    const url = (await waitFor(proc.stdout, /GraphQL at (http:\/\/\S+\/graphql)/, 15_000))[1]!;
    const origin = new URL(url).origin;
    // Health checks on their own connection, as a load balancer's would be.
    const health = new Client(origin, { headersTimeout: 5_000, bodyTimeout: 5_000 });
    servers.later(() => health.close());
    await (await health.request({ path: '/healthz', method: 'GET' })).body.dump();

    const transports: Array<[string, (query: string) => Promise<Answer>]> = [
      ['bare POST', (query) => send(url, 'bare POST', { query }, {}, 5_000)],
      ['POST with extensions', (query) => send(url, 'POST with extensions', { query }, {}, 5_000)],
      ['GET', (query) => sendGet(url, { query }, {}, 5_000)],
    ];
    const leaves = ['__typename', 'visitor(id: "x") { id }'];
    let prefixIndex = 0;
    for (const [transport, run] of transports) {
      for (const leaf of leaves) {
        // A fresh fragment prefix each time, so no cache answers for validation.
        const { links, query } = longest(`F${prefixIndex++}_`, leaf);
        expect(links).toBeGreaterThan(150);
        const started = performance.now();
        let settled = false;
        const answer = run(query).finally(() => (settled = true));
        // Probe health for as long as the chain is in flight (bounded: at most 2 s or 200 probes).
        let worstHealthMs = 0;
        let probes = 0;
        while (probes === 0 || (!settled && probes < 200 && performance.now() - started < 2_000)) {
          const t = performance.now();
          const res = await health.request({ path: '/healthz', method: 'GET' });
          await res.body.dump();
          expect(res.statusCode).toBe(200);
          worstHealthMs = Math.max(worstHealthMs, performance.now() - t);
          probes++;
        }
        const res = await answer;
        const ms = performance.now() - started;
        expect(res.status, transport).toBe(400);
        expect(codes(res), transport).toContain('GRAPHQL_VALIDATION_FAILED');
        expect(res.body.data ?? null).toBeNull();
        expect(ms, `${transport}: validation took ${ms} ms`).toBeLessThan(2_000);
        expect(worstHealthMs, `${transport}: /healthz took ${worstHealthMs} ms`).toBeLessThan(500);
        figures.push(
          `row 1 ${transport}, leaf ${leaf.split('(')[0]}: ${links} links, ${Buffer.byteLength(query)} bytes -> ` +
            `400 in ${ms.toFixed(0)} ms; worst /healthz ${worstHealthMs.toFixed(1)} ms over ${probes} probes`,
        );
      }
    }
    // Still alive and answering afterwards.
    const after = await health.request({ path: '/healthz', method: 'GET' });
    expect(after.statusCode).toBe(200);
    await after.body.dump();
  }, 45_000);
});

describe('3. the upstream-call budget (MAX_UPSTREAM_CALLS, default 120)', () => {
  const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `i${from + i}`);
  const list = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;

  /** 15 aliased `visitors` of 100 distinct ids each, one more unaliased, and one `visitor`: 1,601 distinct ids. */
  const literal = () => {
    const fields = Array.from({ length: 15 }, (_, a) => `a${a}: visitors(ids: ${list(ids(a * 100, 100))}) { id }`);
    fields.push(`visitors(ids: ${list(ids(1500, 100))}) { id }`, 'visitor(id: "i1600") { id }');
    return { query: `{ ${fields.join(' ')} }` };
  };
  /** The same operation with every list in its own variable. */
  const viaVariables = () => {
    const names = Array.from({ length: 16 }, (_, v) => `v${v}`);
    const definitions = names.map((n) => `$${n}: [ID!]!`).join(', ');
    const fields = names.map((n, v) => `${v < 15 ? `a${v}: ` : ''}visitors(ids: $${n}) { id }`);
    return {
      query: `query Attack(${definitions}, $one: ID!) { ${fields.join(' ')} visitor(id: $one) { id } }`,
      variables: { ...Object.fromEntries(names.map((n, v) => [n, ids(v * 100, 100)])), one: 'i1600' },
    };
  };
  /** Ids in variable defaults only: 2 × 100 distinct, over the budget of 120 with no variables sent. */
  const viaDefaults = () => ({
    query: `query Defaults($a: [ID!] = ${list(ids(0, 100))}, $b: [ID!]! = ${list(ids(100, 100))}) { a: visitors(ids: $a) { id } visitors(ids: $b) { id } }`,
  });
  /** One list sent as a variable, one left to its default. */
  const mixed = () => ({
    query: `query Mixed($a: [ID!]!, $b: [ID!] = ${list(ids(100, 100))}) { a: visitors(ids: $a) { id } visitors(ids: $b) { id } }`,
    variables: { a: ids(0, 100) },
  });
  /** Lists behind fragments, spread twice each. */
  const viaFragments = () => ({
    query:
      `{ ...A ...A ...B ...B } fragment A on Query { a: visitors(ids: ${list(ids(0, 100))}) { id } } ` +
      `fragment B on Query { b: visitors(ids: ${list(ids(100, 100))}) { id } }`,
  });

  const variants: Array<[string, () => Record<string, unknown>, number]> = [
    ['literal: 16 lists of 100 and one visitor', literal, 1601],
    ['the same through 16 variables', viaVariables, 1601],
    ['ids in variable defaults', viaDefaults, 200],
    ['one variable, one default', mixed, 200],
    ['lists behind fragments', viaFragments, 200],
  ];

  const cases = variants.flatMap(([name, build, distinct]) => SHAPES.map((path) => [name, path, build, distinct] as const));
  it.each(cases)('refuses %s (%s) with 400 UPSTREAM_BUDGET_EXCEEDED and zero upstream calls', async (_name, path, build, distinct) => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    const res = await send(gateway.url, path, build(), DEMO_HEADERS);
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(['UPSTREAM_BUDGET_EXCEEDED']);
    expect(res.body.errors![0]!.message).toContain(String(distinct));
    expect(res.body.data ?? null).toBeNull();
    // The HTTP instruction stays out of the answer.
    expect(res.body.errors![0]!.extensions!.http).toBeUndefined();
    expect(upstream.calls).toBe(0);
  });

  it.each(SHAPES)("still serves a console's 100 ids and one visitor (101 calls, under the budget) as a %s", async (path) => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    const known = DEMO_VISITORS.map((v) => v._id);
    const hundred = [...known, ...ids(0, 100 - known.length)];
    const res = await send(
      gateway.url,
      path,
      { query: `query Console($ids: [ID!]!) { visitors(ids: $ids) { id } one: visitor(id: "i9999") { id } }`, variables: { ids: hundred } },
      DEMO_HEADERS,
    );
    expect(res.status).toBe(200);
    expect(res.body.data!.visitors).toHaveLength(100);
    expect(res.body.data!.visitors.slice(0, known.length).map((v: { id: string }) => v.id)).toEqual(known);
    expect(new Set(codes(res))).toEqual(new Set(['NOT_FOUND']));
    expect(visitorCalls(upstream)).toBe(101);
  });
});

describe("4. Rocket.Chat's remaining quota (X-RateLimit-Remaining)", () => {
  it('refuses an operation that needs more distinct ids than remain, up front: 429, Retry-After, RATE_LIMITED with retryAfter, no further calls, in every request shape', async () => {
    const limit = 10;
    const upstream = await servers.demo({ record: true, rateLimit: { limit, windowMs: 60_000 } });
    const gateway = await servers.gateway(upstream.url);

    // One call teaches the gateway what is left: limit - 1.
    const first = await send(gateway.url, 'bare POST', { query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` }, DEMO_HEADERS);
    expect(first.status).toBe(200);
    expect(first.body.errors).toBeUndefined();
    expect(upstream.calls).toBe(1);

    // `limit` distinct ids: one more than remains.
    const ids = [SEED_VISITOR_ID, FULL_VISITOR_ID, ...Array.from({ length: limit - 2 }, (_, i) => `unknownVisitor${i}`)];
    const tooMany = { query: 'query Many($ids: [ID!]!) { visitors(ids: $ids) { id } }', variables: { ids } };
    const refusals: Array<[string, Answer]> = [
      ['bare POST', await send(gateway.url, 'bare POST', tooMany, DEMO_HEADERS)],
      ['POST with extensions', await send(gateway.url, 'POST with extensions', tooMany, DEMO_HEADERS)],
      ['GET', await sendGet(gateway.url, tooMany, DEMO_HEADERS)],
    ];
    for (const [name, res] of refusals) {
      expect(res.status, name).toBe(429);
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter, name).toBeGreaterThanOrEqual(1);
      expect(retryAfter, name).toBeLessThanOrEqual(60);
      expect(codes(res), name).toEqual(['RATE_LIMITED']);
      expect(res.body.errors![0]!.extensions!.retryAfter, name).toBe(retryAfter);
      expect(res.body.errors![0]!.message, name).toContain(`allows ${limit - 1} more`);
      expect(res.body.data ?? null, name).toBeNull();
    }
    expect(upstream.calls).toBe(1);

    // Refused only because it cannot fit: an operation that fits still runs.
    const fits = await send(gateway.url, 'POST with extensions', { ...tooMany, variables: { ids: ids.slice(0, 2) } }, DEMO_HEADERS);
    expect(fits.status).toBe(200);
    expect(fits.body.errors).toBeUndefined();
    expect(upstream.calls).toBe(3);
  });
});

describe('5. one large visitor served many times (MAX_RESPONSE_BYTES, default 4 MiB)', () => {
  const MAX_RESPONSE_BYTES = DEFAULTS.maxResponseBytes;
  /** 15 aliases and one plain field, each `visitors` of the same id 100 times: 1,600 copies, one call. */
  const query = `query Big($ids: [ID!]!) { ${Array.from({ length: 16 }, (_, a) => `${a < 15 ? `a${a}: ` : ''}visitors(ids: $ids) { id name }`).join(' ')} }`;
  const fields = [...Array.from({ length: 15 }, (_, a) => `a${a}`), 'visitors'];

  const cases = [200, 400].flatMap((kib) => SHAPES.map((path) => [kib, path] as const));
  it.each(cases)('a %i KiB visitor 1,600 times (%s): HTTP 200, a bounded body, RESPONSE_TOO_LARGE for the rest, one upstream call', async (kib, path) => {
    const name = 'N'.repeat(kib * 1024);
    const upstream = await servers.fake((req) => ({
      status: 200,
      body: { success: true, visitor: { _id: req.query.visitorId, name, status: 'online' } },
    }));
    const gateway = await servers.gateway(upstream.url);
    const started = performance.now();
    const res = await send(gateway.url, path, { query, variables: { ids: Array(100).fill('bigVisitor000001') } }, DEMO_HEADERS);
    const ms = performance.now() - started;

    expect(res.status).toBe(200);
    expect(upstream.calls).toBe(1);
    const entries = fields.flatMap((f) => res.body.data![f] as Array<{ id: string; name: string } | null>);
    expect(entries).toHaveLength(1600);
    const served = entries.filter((v) => v !== null);
    expect(served.length).toBeGreaterThanOrEqual(1);
    for (const v of served) expect(v!.name).toBe(name);
    // Each copy counts its whole upstream answer: no more copies than fit in the budget.
    expect(served.length * kib * 1024).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    const nulls = entries.length - served.length;
    expect(nulls).toBeGreaterThan(1500);
    const errors = res.body.errors ?? [];
    expect(errors).toHaveLength(nulls);
    expect(new Set(errors.map((e) => e.extensions?.code))).toEqual(new Set(['RESPONSE_TOO_LARGE']));
    for (const e of errors) {
      expect(fields).toContain(e.path![0]);
      expect(res.body.data![e.path![0] as string][e.path![1] as number]).toBeNull();
    }
    // The budget, one more visitor, and the errors: well under 6 MiB, where 1,600 copies were 305 MiB.
    const bytes = Buffer.byteLength(res.text);
    const errorBytes = Buffer.byteLength(JSON.stringify(errors));
    expect(bytes).toBeLessThanOrEqual(MAX_RESPONSE_BYTES + kib * 1024 + errorBytes + 64 * 1024);
    expect(bytes).toBeLessThan(6 * 1024 * 1024);
    figures.push(
      `row 5 ${kib} KiB visitor, ${path}: HTTP ${res.status}, ${served.length} copies served, ${nulls} RESPONSE_TOO_LARGE, ` +
        `body ${(bytes / 1048576).toFixed(2)} MiB (errors ${(errorBytes / 1024).toFixed(0)} KiB), upstream calls ${upstream.calls}, ${ms.toFixed(0)} ms`,
    );

    // The budget is per operation: the next one is served in full.
    const normal = await send(
      gateway.url,
      path,
      { query: 'query One($id: ID!) { visitor(id: $id) { id name } }', variables: { id: 'bigVisitor000002' } },
      DEMO_HEADERS,
    );
    expect(normal.status).toBe(200);
    expect(normal.body.errors).toBeUndefined();
    expect(normal.body.data!.visitor).toEqual({ id: 'bigVisitor000002', name });
    expect(upstream.calls).toBe(2);
  });
});

describe('6. refusals that answered the wrong status or code', () => {
  const distinct = JSON.stringify(Array.from({ length: 150 }, (_, i) => `d${i}`));
  const repeated = JSON.stringify(Array(150).fill(SEED_VISITOR_ID));
  const cases: Array<[string, string, string]> = [
    ['150 distinct ids', '[ID!]!', distinct],
    ['150 distinct ids', '[ID!]', distinct],
    ['one id 150 times (one call: within the call budget)', '[ID!]', repeated],
  ];
  const all = cases.flatMap(([name, type, ids]) => [...SHAPES, 'GET' as const].map((path) => [name, type, path, ids] as const));
  it.each(all)('a variable default of %s ($ids: %s, %s) is 400 BAD_USER_INPUT with zero upstream calls', async (_name, type, path, ids) => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    const body = { query: `query Defaults($ids: ${type} = ${ids}) { visitors(ids: $ids) { id } }` };
    const res = path === 'GET' ? await sendGet(gateway.url, body, DEMO_HEADERS) : await send(gateway.url, path, body, DEMO_HEADERS);
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.body.errors![0]!.message).toMatch(/at most 100 ids; got 150/);
    expect(res.body.data ?? null).toBeNull();
    expect(upstream.calls).toBe(0);
  });

  it.each(SHAPES)('a variable default at MAX_IDS still runs (%s)', async (path) => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    const body = { query: `query Defaults($ids: [ID!] = ${JSON.stringify(Array(100).fill(SEED_VISITOR_ID))}) { visitors(ids: $ids) { id } }` };
    const res = await send(gateway.url, path, body, DEMO_HEADERS);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.visitors).toHaveLength(100);
    expect(upstream.calls).toBe(1);
  });

  it('an APQ hash that does not match its query is 400 PERSISTED_QUERY_HASH_MISMATCH (POST and GET), and a matching one still works', async () => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url, { NODE_ENV: 'production' });
    const query = `{ visitor(id: "${SEED_VISITOR_ID}") { id } }`;
    const wrong = { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } };

    const post = await answerOf(
      await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
        body: JSON.stringify({ query, extensions: wrong }),
      }),
    );
    const search = new URLSearchParams({ query, extensions: JSON.stringify(wrong) });
    const get = await answerOf(await fetch(`${gateway.url}?${search}`, { headers: { 'apollo-require-preflight': '1', ...DEMO_HEADERS } }));
    for (const [name, res] of [
      ['POST', post],
      ['GET', get],
    ] as const) {
      expect(res.status, name).toBe(400);
      expect(codes(res), name).toEqual(['PERSISTED_QUERY_HASH_MISMATCH']);
      expect(res.body.errors![0]!.message, name).toBe('provided sha does not match query');
      expect(typeof res.body.errors![0]!.extensions!.requestId, name).toBe('string');
    }
    expect(upstream.calls).toBe(0);

    const right = { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') } };
    const ok = await answerOf(
      await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
        body: JSON.stringify({ query, extensions: right }),
      }),
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ data: { visitor: { id: SEED_VISITOR_ID } } });
  });
});

describe('7. idle sockets (MAX_CONNECTIONS, HTTP_HEADERS_TIMEOUT_MS)', () => {
  /** A raw TCP connection that never sends a byte; `closedAt` is set when the gateway closes it. */
  interface Idle {
    socket: Socket;
    closed: Promise<number>;
    closedAt?: number;
  }
  const openIdle = (port: number, t0: number): Promise<Idle> =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const idle: Idle = {
        socket,
        closed: new Promise<number>((done) => socket.once('close', () => done((idle.closedAt = performance.now() - t0)))),
      };
      // Reading, so that the gateway's FIN or RST is seen.
      socket.resume();
      socket.on('error', () => {});
      socket.once('connect', () => resolve(idle));
      socket.once('error', reject);
    });

  it('keeps serving a connected client, closes connections past the limit at once and counts them; idle sockets are reaped once the headers timeout has passed', async () => {
    const MAX_CONNECTIONS = 50;
    const HEADERS_TIMEOUT_MS = 1_000;
    const IDLE = 80;
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url, {
      MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    });
    const { port, origin } = new URL(gateway.url);
    const t0 = performance.now();
    const sockets: Socket[] = [];
    servers.later(async () => {
      for (const s of sockets) s.destroy();
    });

    // A console connected before the flood, with one request done: its keep-alive connection is one of the 50.
    const konsole = new Client(origin, { keepAliveTimeout: 60_000, keepAliveMaxTimeout: 120_000, headersTimeout: 5_000, bodyTimeout: 5_000 });
    servers.later(() => konsole.destroy());
    let disconnects = 0;
    konsole.on('disconnect', () => disconnects++);
    const ask = async () => {
      const res = await konsole.request({
        path: '/graphql',
        method: 'POST',
        headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
        body: JSON.stringify({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` }),
      });
      return { status: res.statusCode, body: (await res.body.json()) as GraphQLBody };
    };
    expect((await ask()).status).toBe(200);

    // The flood: sockets that never send. Connections past the limit are closed by the gateway at once.
    const idle: Idle[] = [];
    for (let i = 0; i < IDLE; i++) {
      const s = await openIdle(Number(port), t0);
      sockets.push(s.socket);
      idle.push(s);
    }
    // Drops happen as each socket is accepted; give the closes a moment (at most 2 s) to arrive.
    const expectedDrops = IDLE - (MAX_CONNECTIONS - 1);
    for (let waited = 0; waited < 2_000 && idle.filter((s) => s.closedAt !== undefined).length < expectedDrops; waited += 50) await sleep(50);
    await sleep(100);
    const dropped = idle.filter((s) => s.closedAt !== undefined);
    const held = idle.filter((s) => s.closedAt === undefined);
    expect(held).toHaveLength(MAX_CONNECTIONS - 1);
    expect(dropped).toHaveLength(expectedDrops);

    // The connected console is still served, on the connection it already had.
    for (let i = 0; i < 3; i++) {
      const res = await ask();
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ visitor: { id: SEED_VISITOR_ID } });
    }
    expect(disconnects).toBe(0);

    // A new connection past the limit does not hang: it is closed within a second.
    const probeStarted = performance.now();
    const probe = await openIdle(Number(port), probeStarted);
    sockets.push(probe.socket);
    const closedIn = await Promise.race([probe.closed, sleep(1_000).then(() => Infinity)]);
    expect(closedIn).toBeLessThan(1_000);
    // A new HTTP client fails fast rather than waiting.
    const newcomerStarted = performance.now();
    const newcomer = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.status,
      (e: Error) => (e.cause as { code?: string } | undefined)?.code ?? e.name,
    );
    const newcomerMs = performance.now() - newcomerStarted;
    expect(newcomer).not.toBe(200);
    expect(newcomer).not.toBe('TimeoutError');
    expect(newcomerMs).toBeLessThan(1_500);

    // Every dropped socket is counted.
    const metricsRes = await konsole.request({ path: '/metrics', method: 'GET' });
    const metrics = await metricsRes.body.text();
    const counted = Number(/^gateway_limit_refusals_total\{limit="connections"\} (\d+)/m.exec(metrics)?.[1]);
    // The flood's drops, the probe, and the newcomer's attempts (fetch may retry once).
    expect(counted).toBeGreaterThanOrEqual(dropped.length + 2);
    expect(counted).toBeLessThanOrEqual(dropped.length + 4);

    // Past the headers timeout the idle sockets go: Node checks that timeout every second here
    // (connectionsCheckingInterval), not every 30 s as by default.
    const reaped = await Promise.race([Promise.all(held.map((s) => s.closed)), sleep(HEADERS_TIMEOUT_MS + 1_500 - (performance.now() - t0)).then(() => null)]);
    expect(reaped, 'idle sockets reaped within the headers timeout (+1.5 s)').not.toBeNull();
    const reapedAt = Math.max(...reaped!);
    figures.push(
      `row 7: ${held.length} idle sockets held, ${dropped.length} dropped at once (counted ${counted}), probe closed in ${closedIn.toFixed(0)} ms, ` +
        `new client refused in ${newcomerMs.toFixed(0)} ms (${newcomer}); with a ${HEADERS_TIMEOUT_MS} ms headers timeout, ` +
        `all reaped ${(reapedAt / 1000).toFixed(1)} s after the flood began`,
    );

    // Reaped: new clients are served again, and the console kept its connection throughout.
    const fresh = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2_000) });
    expect(fresh.status).toBe(200);
    expect((await ask()).status).toBe(200);
  }, 60_000);
});

describe('8. a 90 KiB unknown operationName', () => {
  const cases = (['test', 'production'] as const).flatMap((env) => SHAPES.map((path) => [path, env] as const));
  it.each(cases)(
    'is OPERATION_RESOLUTION_FAILURE with a message of at most ~200 characters, and logged clipped to 128 (%s, NODE_ENV=%s)',
    async (path, env) => {
      const upstream = await servers.demo({ record: true });
      const gateway = await servers.gateway(upstream.url, { NODE_ENV: env });
      const operationName = 'N'.repeat(90 * 1024);
      const res = await send(gateway.url, path, { query: '{ __typename }', operationName });
      expect(res.status).toBe(400);
      expect(codes(res)).toEqual(['OPERATION_RESOLUTION_FAILURE']);
      const message = res.body.errors![0]!.message;
      expect(message).toMatch(/^Unknown operation named "N+/);
      expect(message.length).toBeLessThanOrEqual(201);
      // Outside production Apollo adds a stack trace, whose first line repeats graphql's unclipped
      // message (see the report); in production nothing of the name is echoed past the message.
      if (env === 'production') expect(Buffer.byteLength(res.text)).toBeLessThan(1024);

      const lines = gateway.logs.filter((l) => l.msg === 'graphql operation');
      expect(lines).toHaveLength(1);
      const logged = lines[0]!.operationName as string;
      expect(logged.startsWith('N'.repeat(128))).toBe(true);
      expect(logged.length).toBeLessThanOrEqual(129);
      expect(lines[0]).toMatchObject({ httpStatus: 400, codes: ['OPERATION_RESOLUTION_FAILURE'] });
      // No log line carries the name whole.
      expect(Math.max(...gateway.logs.map((l) => JSON.stringify(l).length))).toBeLessThan(2048);
      expect(upstream.calls).toBe(0);
    },
  );
});
