/**
 * Tracing end to end: the built gateway (`node dist/index.js`) with the OTEL_* variables pointing
 * its SDK at a real OTLP/HTTP receiver started here, which decodes the JSON export.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../../src/demo/upstream.js';
import { DEMO_CREDENTIALS, DEMO_VISITORS, FULL_VISITOR_ID, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { startFakeUpstream, type FakeScript, type FakeUpstream } from '../helpers/fakeUpstream.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { ensureBuilt, spawnGateway, waitFor, type Spawned } from '../helpers/process.js';
import { sleep } from '../helpers/promises.js';

// OTLP's span kinds and status codes (opentelemetry-proto trace.proto).
const KIND_INTERNAL = 1;
const KIND_SERVER = 2;
const KIND_CLIENT = 3;
const STATUS_ERROR = 2;

const VISITORS_INFO = 'GET /api/v1/livechat/visitors.info';
const DEPARTMENTS = 'GET /api/v1/livechat/department.listByIds';
const USERS_INFO = 'GET /api/v1/users.info';

const CONSOLE_QUERY = 'query Console($id: ID!) { visitor(id: $id) { name department { name } lastAgent { agent { name } } } }';
const SEED_QUERY = 'query Seed($id: ID!) { visitor(id: $id) { id name } }';
const SEED_VISITOR = DEMO_VISITORS.find((v) => v._id === SEED_VISITOR_ID)!;
const FULL_VISITOR = DEMO_VISITORS.find((v) => v._id === FULL_VISITOR_ID)!;

// ---------------------------------------------------------------------------------------------
// The OTLP/HTTP receiver
// ---------------------------------------------------------------------------------------------

interface OtlpLink {
  traceId: string;
  spanId: string;
  attributes: Record<string, unknown>;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: OtlpLink[];
  status: { code?: number; message?: string };
  resource: Record<string, unknown>;
}

interface Receiver {
  url: string;
  /** Every request, whatever its path. */
  requests: Array<{ method: string; path: string; headers: IncomingHttpHeaders }>;
  /** Every raw body, as received (gunzipped if it came compressed). */
  bodies: string[];
  spans: OtlpSpan[];
  stop(): Promise<void>;
}

type RawAttribute = { key: string; value?: RawValue };
type RawValue = {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: RawValue[] };
};

function valueOf(value: RawValue | undefined): unknown {
  if (!value) return undefined;
  if ('stringValue' in value) return value.stringValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('boolValue' in value) return value.boolValue;
  if ('doubleValue' in value) return value.doubleValue;
  if ('arrayValue' in value) return (value.arrayValue?.values ?? []).map(valueOf);
  return undefined;
}

function attributesOf(raw: RawAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries((raw ?? []).map((a) => [a.key, valueOf(a.value)]));
}

interface RawExport {
  resourceSpans?: Array<{
    resource?: { attributes?: RawAttribute[] };
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: RawAttribute[];
        links?: Array<{ traceId: string; spanId: string; attributes?: RawAttribute[] }>;
        status?: { code?: number; message?: string };
      }>;
    }>;
  }>;
}

function decode(body: string): OtlpSpan[] {
  const parsed = JSON.parse(body) as RawExport;
  const spans: OtlpSpan[] = [];
  for (const rs of parsed.resourceSpans ?? []) {
    const resource = attributesOf(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? '',
          name: s.name,
          kind: s.kind,
          attributes: attributesOf(s.attributes),
          links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: attributesOf(l.attributes) })),
          status: s.status ?? {},
          resource,
        });
      }
    }
  }
  return spans;
}

async function startReceiver(): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const bodies: string[] = [];
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://receiver.invalid').pathname;
      requests.push({ method: req.method ?? '', path, headers: req.headers });
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const body = raw.toString('utf8');
      bodies.push(body);
      if (req.method !== 'POST' || path !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415, { 'content-type': 'application/json' });
        res.end('{}');
        return;
      }
      try {
        spans.push(...decode(body));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    bodies,
    spans,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls (at most 100 × 50 ms) until `ready(spans)` holds; fails with what arrived. */
async function spansWhen(receiver: Receiver, ready: (spans: OtlpSpan[]) => boolean): Promise<OtlpSpan[]> {
  for (let i = 0; i < 100; i++) {
    if (ready(receiver.spans)) return receiver.spans;
    await sleep(50);
  }
  throw new Error(`expected spans never arrived; got:\n${receiver.spans.map((s) => `${s.traceId} ${s.spanId} <- ${s.parentSpanId} ${s.name}`).join('\n')}`);
}

// ---------------------------------------------------------------------------------------------
// Processes and servers, cleaned up after each test (or after the group that shares them)
// ---------------------------------------------------------------------------------------------

type Cleanup = () => Promise<void>;

async function stopGateway(proc: Spawned): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const exited = await Promise.race([proc.exited.then(() => true), sleep(5000).then(() => false)]);
  if (!exited) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
}

/** Spawns the built gateway and waits for its URL. */
async function gateway(cleanups: Cleanup[], env: Record<string, string>): Promise<{ url: string; proc: Spawned }> {
  ensureBuilt();
  const proc = spawnGateway({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env });
  cleanups.push(() => stopGateway(proc));
  const url = (await waitFor(proc.stdout, /GraphQL at (\S+)/, 15_000))[1]!;
  return { url, proc };
}

function otelEnv(receiver: Receiver): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_SERVICE_NAME: 'lvg-test',
  };
}

async function post(
  url: string,
  body: { query: string; variables?: Record<string, unknown> },
  headers: Record<string, string> = {},
): Promise<{ status: number; body: { data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...DEMO_HEADERS, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

function hex(bytes: number): string {
  return Array.from({ length: bytes }, () =>
    Math.floor(Math.random() * 256)
      .toString(16)
      .padStart(2, '0'),
  ).join('');
}

/** A fresh, sampled W3C trace context: `traceparent` and its two ids. */
function newTraceparent(): { traceId: string; parentId: string; traceparent: string } {
  const traceId = hex(16);
  const parentId = hex(8);
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
}

const inTrace = (spans: OtlpSpan[], traceId: string) => spans.filter((s) => s.traceId === traceId);
const childrenOf = (spans: OtlpSpan[], parent: OtlpSpan) => spans.filter((s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId);
function one(spans: OtlpSpan[], predicate: (s: OtlpSpan) => boolean, what: string): OtlpSpan {
  const found = spans.filter(predicate);
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}: ${found.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

// ---------------------------------------------------------------------------------------------

describe('tracing: one traced operation against the demo upstream', () => {
  const cleanups: Cleanup[] = [];
  let receiver: Receiver;
  let upstream: DemoUpstream;
  let run: { url: string; proc: Spawned };
  let answer: Awaited<ReturnType<typeof post>>;
  const { traceId, parentId, traceparent } = newTraceparent();
  let spans: OtlpSpan[];

  beforeAll(async () => {
    receiver = await startReceiver();
    cleanups.push(() => receiver.stop());
    upstream = await startDemoUpstream({ record: true });
    cleanups.push(() => upstream.stop());
    run = await gateway(cleanups, { ...otelEnv(receiver), ROCKETCHAT_URL: upstream.url });
    answer = await post(run.url, { query: CONSOLE_QUERY, variables: { id: FULL_VISITOR_ID } }, { traceparent, baggage: 'k=v' });
    spans = inTrace(
      await spansWhen(receiver, (all) => inTrace(all, traceId).some((s) => s.name === 'POST /graphql') && inTrace(all, traceId).length >= 5),
      traceId,
    );
  }, 30_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('answers the operation as it would untraced, and says tracing is on', () => {
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.visitor.name).toBe(FULL_VISITOR.name);
    expect(answer.body.data.visitor.department).toEqual({ name: expect.any(String) });
    expect(answer.body.data.visitor.lastAgent.agent).toEqual({ name: expect.any(String) });
    expect(run.proc.stdout()).toContain('tracing on');
  });

  it('exports a server span continuing the incoming traceparent, the operation under it, and a client span per Rocket.Chat call', () => {
    const server = one(spans, (s) => s.name === 'POST /graphql', 'server span');
    expect(server.kind).toBe(KIND_SERVER);
    expect(server.traceId).toBe(traceId);
    expect(server.parentSpanId).toBe(parentId);
    expect(server.attributes['http.response.status_code']).toBe(200);
    expect(server.status.code ?? 0).not.toBe(STATUS_ERROR);

    const op = one(spans, (s) => s.name === 'query Console', 'operation span');
    expect(op.kind).toBe(KIND_INTERNAL);
    expect(op.parentSpanId).toBe(server.spanId);
    expect(op.attributes['graphql.operation.type']).toBe('query');
    expect(op.attributes['graphql.operation.name']).toBe('Console');
    expect(op.attributes['graphql.document.hash']).toBe(createHash('sha256').update(CONSOLE_QUERY).digest('hex'));
    expect(op.status.code ?? 0).not.toBe(STATUS_ERROR);

    const clients = spans.filter((s) => s.kind === KIND_CLIENT);
    expect(clients.map((s) => s.name).sort()).toEqual([DEPARTMENTS, VISITORS_INFO, USERS_INFO].sort());
    for (const client of clients) {
      expect(client.parentSpanId).toBe(op.spanId);
      expect(client.traceId).toBe(traceId);
      expect(client.attributes).toMatchObject({
        'http.request.method': 'GET',
        'url.template': client.name.slice('GET '.length),
        'http.response.status_code': 200,
        'rocketchat.cache.hit': false,
        'rocketchat.coalesced': false,
      });
      expect(client.attributes).not.toHaveProperty('http.request.resend_count');
      expect(client.attributes).not.toHaveProperty('error.type');
    }
    // Nothing else in the trace: the three spans above and the three calls.
    expect(spans).toHaveLength(5);
    expect(childrenOf(spans, op)).toHaveLength(3);

    for (const span of spans) expect(span.resource['service.name']).toBe('lvg-test');
    // No process detector: the command line is not exported with every span.
    for (const span of spans) expect(Object.keys(span.resource).filter((k) => k.startsWith('process.'))).toEqual([]);
  });

  it('sends OTLP/JSON traces only: every export is a POST to /v1/traces', () => {
    expect(receiver.requests.length).toBeGreaterThan(0);
    for (const request of receiver.requests) {
      expect(`${request.method} ${request.path}`).toBe('POST /v1/traces');
      expect(request.headers['content-type']).toMatch(/^application\/json/);
    }
  });

  it('carries traceparent upstream on each call, naming its client span, and never the baggage', () => {
    expect(upstream.requests.map((r) => r.path).sort()).toEqual(
      ['/api/v1/livechat/visitors.info', '/api/v1/livechat/department.listByIds', '/api/v1/users.info'].sort(),
    );
    for (const request of upstream.requests) {
      const client = one(spans, (s) => s.kind === KIND_CLIENT && s.name === `GET ${request.path}`, `client span for ${request.path}`);
      expect(request.headers.traceparent).toBe(`00-${traceId}-${client.spanId}-01`);
      expect(request.headers).not.toHaveProperty('baggage');
      expect(request.headers).not.toHaveProperty('tracestate');
    }
  });

  it('exports no secret: no token, user id, visitor id, variable or upstream data in any raw body', () => {
    expect(receiver.bodies.length).toBeGreaterThan(0);
    const raw = receiver.bodies.join('\n');
    const secrets = [
      DEMO_CREDENTIALS.authToken,
      DEMO_CREDENTIALS.userId,
      FULL_VISITOR_ID, // the query's only variable value
      FULL_VISITOR.token!,
      FULL_VISITOR.department!,
      FULL_VISITOR.lastAgent!.agentId,
      FULL_VISITOR.name!,
      'k=v',
    ];
    for (const secret of secrets) expect(raw, secret).not.toContain(secret);
    // Nor under another spelling of the same header values.
    expect(raw.toLowerCase()).not.toContain(DEMO_CREDENTIALS.authToken.toLowerCase());
  });

  it('logs the operation with the incoming trace id and the operation span id', () => {
    const op = one(spans, (s) => s.name === 'query Console', 'operation span');
    const lines = run.proc
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const operation = lines.filter((l) => l.msg === 'graphql operation');
    expect(operation).toHaveLength(1);
    expect(operation[0]).toMatchObject({ operationName: 'Console', outcome: 'ok', traceId, spanId: op.spanId });
  });
});

describe('tracing: retries, coalescing, the cache, and off', () => {
  let cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });
  async function receiverNow(): Promise<Receiver> {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.stop());
    return receiver;
  }
  async function fake(script: FakeScript): Promise<FakeUpstream> {
    const upstream = await startFakeUpstream(script);
    cleanups.push(() => upstream.stop());
    return upstream;
  }
  async function demo(): Promise<DemoUpstream> {
    const upstream = await startDemoUpstream({ record: true });
    cleanups.push(() => upstream.stop());
    return upstream;
  }

  it('a retried call is two attempt spans: the first failed with error.type, the second with http.request.resend_count 1', async () => {
    const receiver = await receiverNow();
    const upstream = await fake((_req, call) =>
      call === 0 ? { status: 503, body: { success: false, error: 'Service Unavailable' } } : { status: 200, body: { visitor: SEED_VISITOR, success: true } },
    );
    const { url } = await gateway(cleanups, { ...otelEnv(receiver), ROCKETCHAT_URL: upstream.url });
    const { traceId, traceparent } = newTraceparent();
    const answer = await post(url, { query: SEED_QUERY, variables: { id: SEED_VISITOR_ID } }, { traceparent });
    expect(answer.body).toEqual({ data: { visitor: { id: SEED_VISITOR_ID, name: SEED_VISITOR.name } } });
    expect(upstream.calls).toBe(2);

    const spans = inTrace(
      await spansWhen(
        receiver,
        (all) => inTrace(all, traceId).some((s) => s.name === 'POST /graphql') && inTrace(all, traceId).filter((s) => s.kind === KIND_CLIENT).length >= 2,
      ),
      traceId,
    );
    const op = one(spans, (s) => s.name === 'query Seed', 'operation span');
    const attempts = spans.filter((s) => s.kind === KIND_CLIENT);
    expect(attempts).toHaveLength(2);
    const first = one(attempts, (s) => !('http.request.resend_count' in s.attributes), 'first attempt');
    const second = one(attempts, (s) => s.attributes['http.request.resend_count'] === 1, 'retry');
    for (const attempt of [first, second]) {
      expect(attempt.name).toBe(VISITORS_INFO);
      expect(attempt.parentSpanId).toBe(op.spanId);
    }
    expect(first.attributes['http.response.status_code']).toBe(503);
    expect(first.attributes['error.type']).toBe('UPSTREAM_UNAVAILABLE');
    expect(first.status.message).toBe('UPSTREAM_UNAVAILABLE');
    expect(first.status.code).toBe(STATUS_ERROR);
    expect(second.attributes['http.response.status_code']).toBe(200);
    expect(second.attributes).not.toHaveProperty('error.type');
    expect(second.status.code ?? 0).not.toBe(STATUS_ERROR);
    // The operation succeeded in the end.
    expect(op.attributes).not.toHaveProperty('error.type');
    // Each attempt went upstream with its own span's id.
    expect(upstream.requests.map((r) => r.headers.traceparent)).toEqual([`00-${traceId}-${first.spanId}-01`, `00-${traceId}-${second.spanId}-01`]);
  });

  it("a failed operation ends its span with error.type = the first error code, and its call's span too", async () => {
    const receiver = await receiverNow();
    const upstream = await demo();
    const { url } = await gateway(cleanups, { ...otelEnv(receiver), ROCKETCHAT_URL: upstream.url });
    const { traceId, traceparent } = newTraceparent();
    const missing = 'uNkNoWnViSiToR0001';
    const answer = await post(url, { query: 'query Missing($id: ID!) { visitor(id: $id) { id } }', variables: { id: missing } }, { traceparent });
    const code = answer.body.errors?.[0]?.extensions?.code;
    expect(code).toBe('NOT_FOUND');

    const spans = inTrace(await spansWhen(receiver, (all) => inTrace(all, traceId).some((s) => s.name === 'POST /graphql')), traceId);
    const server = one(spans, (s) => s.name === 'POST /graphql', 'server span');
    const op = one(spans, (s) => s.name === 'query Missing', 'operation span');
    const call = one(spans, (s) => s.kind === KIND_CLIENT, 'client span');
    expect(op.attributes['error.type']).toBe(code);
    expect(op.status).toMatchObject({ code: STATUS_ERROR, message: code });
    expect(call.name).toBe(VISITORS_INFO);
    expect(call.parentSpanId).toBe(op.spanId);
    expect(call.attributes['error.type']).toBe(code);
    // Rocket.Chat answers an unknown visitor 400 `visitor-not-found` (the demo upstream does the same).
    expect(call.attributes['http.response.status_code']).toBe(400);
    expect(call.status.code).toBe(STATUS_ERROR);
    // An answered request is no server failure, whatever the operation's outcome.
    expect(server.attributes['http.response.status_code']).toBe(answer.status);
    expect(answer.status).toBeLessThan(500);
    expect(server.status.code ?? 0).not.toBe(STATUS_ERROR);
    expect(receiver.bodies.join('\n')).not.toContain(missing);
  });

  it('a caller joining its own identical call in flight gets a coalesced span, linked both ways with the one attempt', async () => {
    const receiver = await receiverNow();
    const upstream = await fake(() => ({ status: 200, delayMs: 300, body: { visitor: SEED_VISITOR, success: true } }));
    const { url } = await gateway(cleanups, { ...otelEnv(receiver), ROCKETCHAT_URL: upstream.url });
    const a = newTraceparent();
    const b = newTraceparent();
    const request = { query: SEED_QUERY, variables: { id: SEED_VISITOR_ID } };
    const first = post(url, request, { traceparent: a.traceparent });
    // The second asks only once the first's call is in flight upstream (answered after ~300 ms).
    await waitFor(() => String(upstream.calls), /^1$/, 5000);
    const second = post(url, request, { traceparent: b.traceparent });
    const expected = { data: { visitor: { id: SEED_VISITOR_ID, name: SEED_VISITOR.name } } };
    expect((await first).body).toEqual(expected);
    expect((await second).body).toEqual(expected);
    expect(upstream.calls).toBe(1);

    const all = await spansWhen(
      receiver,
      (spans) => inTrace(spans, a.traceId).some((s) => s.name === 'POST /graphql') && inTrace(spans, b.traceId).some((s) => s.name === 'POST /graphql'),
    );
    const upstreamSpans = [...inTrace(all, a.traceId), ...inTrace(all, b.traceId)].filter((s) => s.name === VISITORS_INFO);
    const attempt = one(upstreamSpans, (s) => s.kind === KIND_CLIENT, 'client attempt span');
    const waiter = one(upstreamSpans, (s) => s.kind === KIND_INTERNAL && s.attributes['rocketchat.coalesced'] === true, 'coalesced span');
    expect(upstreamSpans).toHaveLength(2);

    expect(attempt.traceId).toBe(a.traceId);
    expect(attempt.attributes['rocketchat.coalesced']).toBe(false);
    expect(attempt.parentSpanId).toBe(one(inTrace(all, a.traceId), (s) => s.name === 'query Seed', 'first operation').spanId);
    expect(waiter.traceId).toBe(b.traceId);
    expect(waiter.parentSpanId).toBe(one(inTrace(all, b.traceId), (s) => s.name === 'query Seed', 'second operation').spanId);
    expect(waiter.attributes).toMatchObject({ 'url.template': '/api/v1/livechat/visitors.info', 'rocketchat.cache.hit': false, 'rocketchat.coalesced': true });

    expect(waiter.links.map((l) => [l.traceId, l.spanId])).toEqual([[attempt.traceId, attempt.spanId]]);
    expect(attempt.links.map((l) => [l.traceId, l.spanId])).toEqual([[waiter.traceId, waiter.spanId]]);
    expect(upstream.requests[0]!.headers.traceparent).toBe(`00-${a.traceId}-${attempt.spanId}-01`);
  });

  it('a cached answer is an internal span with rocketchat.cache.hit=true, and no client span', async () => {
    const receiver = await receiverNow();
    const upstream = await demo();
    const { url } = await gateway(cleanups, { ...otelEnv(receiver), ROCKETCHAT_URL: upstream.url, CACHE_TTL_MS: '60000' });
    const request = { query: CONSOLE_QUERY, variables: { id: FULL_VISITOR_ID } };
    const t1 = newTraceparent();
    const t2 = newTraceparent();
    const first = await post(url, request, { traceparent: t1.traceparent });
    const callsAfterFirst = upstream.calls;
    expect(callsAfterFirst).toBe(3);
    const second = await post(url, request, { traceparent: t2.traceparent });
    expect(second.body).toEqual(first.body);
    expect(upstream.calls).toBe(callsAfterFirst);

    const all = await spansWhen(
      receiver,
      (spans) => inTrace(spans, t1.traceId).some((s) => s.name === 'POST /graphql') && inTrace(spans, t2.traceId).some((s) => s.name === 'POST /graphql'),
    );
    const firstTrace = inTrace(all, t1.traceId);
    expect(firstTrace.filter((s) => s.kind === KIND_CLIENT)).toHaveLength(3);
    expect(firstTrace.filter((s) => s.attributes['rocketchat.cache.hit'] === true)).toEqual([]);

    const secondTrace = inTrace(all, t2.traceId);
    const op = one(secondTrace, (s) => s.name === 'query Console', 'second operation');
    const children = childrenOf(secondTrace, op);
    expect(secondTrace.filter((s) => s.kind === KIND_CLIENT)).toEqual([]);
    const hits = children.filter((s) => s.kind === KIND_INTERNAL && s.attributes['rocketchat.cache.hit'] === true);
    expect(hits.map((s) => s.name)).toContain(VISITORS_INFO);
    expect(hits.map((s) => s.name).sort()).toEqual([DEPARTMENTS, VISITORS_INFO, USERS_INFO].sort());
    for (const hit of hits) expect(hit.attributes['url.template']).toBe(hit.name.slice('GET '.length));
  });

  it('is off without OTEL_* variables: nothing reaches the receiver, and the gateway answers as usual', async () => {
    const receiver = await receiverNow();
    const upstream = await demo();
    // The receiver's address is in the environment, but under no name the SDK reads.
    const { url, proc } = await gateway(cleanups, { ROCKETCHAT_URL: upstream.url, LVG_TEST_UNRELATED_URL: receiver.url });
    for (let i = 0; i < 3; i++) {
      const { traceparent } = newTraceparent();
      const answer = await post(url, { query: SEED_QUERY, variables: { id: SEED_VISITOR_ID } }, { traceparent });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ data: { visitor: { id: SEED_VISITOR_ID, name: SEED_VISITOR.name } } });
    }
    // Five times the export delay the tests above use, in bounded steps.
    for (let i = 0; i < 10 && receiver.requests.length === 0; i++) await sleep(50);
    expect(receiver.requests).toEqual([]);
    // Rocket.Chat gets no traceparent either, and the log lines no trace ids.
    for (const request of upstream.requests) expect(request.headers).not.toHaveProperty('traceparent');
    expect(proc.stdout()).not.toContain('tracing on');
    const operationLines = proc
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"msg":"graphql operation"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(operationLines).toHaveLength(3);
    for (const line of operationLines) {
      expect(line).not.toHaveProperty('traceId');
      expect(line).not.toHaveProperty('spanId');
    }
  });
});
