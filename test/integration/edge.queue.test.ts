import { describe, expect, it } from 'vitest';
import { DEMO_HEADERS, type TestGateway } from '../helpers/gateway.js';
import { useServers } from '../helpers/servers.js';

/**
 * The gateway's own queue is not Rocket.Chat's fault. Scaled down from the attack (150 operations,
 * 64 connections, 1 s answers): 2 connections, 300 ms answers, a 400 ms attempt timeout, and 12
 * operations at once, each needing its own id, so that most of them wait in the queue for longer
 * than one attempt may take.
 */
const servers = useServers();
const LATENCY_MS = 300;
const OPERATIONS = 12;
const idsFor = (count: number) => Array.from({ length: count }, (_, i) => `qUeUeDvIsItOr${String(i).padStart(4, '0')}`);
const ids = idsFor(OPERATIONS);

async function healthySlowUpstream() {
  return servers.fake((req) =>
    req.path === '/api/info'
      ? { body: { version: '8.4.1', success: true } }
      : { delayMs: LATENCY_MS, body: { visitor: { _id: req.query.visitorId, name: 'Queued' }, success: true } },
  );
}

async function askAll(gateway: TestGateway, all = ids) {
  const started = performance.now();
  const results = await Promise.all(all.map((id) => gateway.post({ query: `{ visitor(id: "${id}") { id name } }` }, DEMO_HEADERS)));
  return { results, took: performance.now() - started };
}

const upstreamError = (r: { body: { errors?: Array<{ extensions?: Record<string, any> }> } }) => r.body.errors?.[0]?.extensions?.upstream?.error;
const codeOf = (r: { body: { errors?: Array<{ extensions?: Record<string, any> }> } }) => r.body.errors?.[0]?.extensions?.code;

describe('waiting for a connection is not an upstream timeout', () => {
  it('every queued operation is answered: no UPSTREAM_TIMEOUT, no circuit-open, the breaker stays closed', async () => {
    const upstream = await healthySlowUpstream();
    const gateway = await servers.gateway(upstream.url, {
      UPSTREAM_CONNECTIONS: '2',
      UPSTREAM_TIMEOUT_MS: '400',
      UPSTREAM_DEADLINE_MS: '6000',
      BREAKER_THRESHOLD: '5',
    });
    const states: string[] = [];
    const { results, took } = await askAll(gateway);
    for (const line of gateway.logs) if (typeof line.breaker === 'string') states.push(line.breaker);
    expect(results.map(codeOf).filter(Boolean)).toEqual([]);
    results.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ data: { visitor: { id: ids[i], name: 'Queued' } } });
    });
    // Two at a time: six rounds of 300 ms, not faster (the bulkhead held) and one call per id (nothing retried).
    expect(took).toBeGreaterThanOrEqual((OPERATIONS / 2) * LATENCY_MS - 50);
    expect(upstream.calls).toBe(OPERATIONS);
    expect(gateway.client.breakerState).toBe('closed');
    expect(states).toEqual([]);
    const ready = await fetch(gateway.url.replace('/graphql', '/readyz'));
    expect(ready.status).toBe(200);
  });

  it('with a deadline shorter than the queue, the ones still queued answer queue-timeout, and the breaker stays closed', async () => {
    const upstream = await healthySlowUpstream();
    // 1000 ms covers three rounds of two, four at most: of 20, at least 12 are still queued at their
    // deadline when they arrive together, and a loaded machine only spreads them out so much.
    const gateway = await servers.gateway(upstream.url, {
      UPSTREAM_CONNECTIONS: '2',
      UPSTREAM_TIMEOUT_MS: '400',
      UPSTREAM_DEADLINE_MS: '1000',
      BREAKER_THRESHOLD: '1',
    });
    const many = idsFor(20);
    const { results, took } = await askAll(gateway, many);
    const answered = results.filter((r) => r.body.data?.visitor);
    const queueTimeouts = results.filter((r) => upstreamError(r) === 'queue-timeout');
    expect(answered.length).toBeGreaterThanOrEqual(2);
    expect(queueTimeouts.length).toBeGreaterThanOrEqual(4);
    for (const r of queueTimeouts) {
      expect(r.status).toBe(200);
      expect(r.body.data).toEqual({ visitor: null });
      expect(r.body.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', upstream: { status: null, error: 'queue-timeout' } });
    }
    // Nothing else: an attempt the deadline cut short after a wait in the queue is the queue's timeout too.
    expect(answered.length + queueTimeouts.length).toBe(many.length);
    expect(took).toBeLessThan(1000 + 500);
    // A threshold of 1, and still closed: no queued call ever reached the breaker as a fault.
    expect(gateway.client.breakerState).toBe('closed');
    // Calls that gave up in the queue never reached Rocket.Chat, and none was retried.
    expect(upstream.calls).toBeGreaterThanOrEqual(answered.length);
    expect(upstream.calls).toBeLessThan(many.length);
    expect((await gateway.post({ query: `{ visitor(id: "${ids[0]}") { id } }` }, DEMO_HEADERS)).body).toEqual({ data: { visitor: { id: ids[0] } } });
  });
});
