/**
 * The HTTP timeouts a gateway behind a load balancer is set with, and the counter that tells an
 * operator which limit refused what.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FULL_VISITOR_ID, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { useServers } from '../helpers/servers.js';

const servers = useServers();

/** Opens a raw connection, writes `text`, and resolves with how long the gateway took to close it. */
function closedAfter(port: number, text: string, limitMs: number): Promise<{ ms: number; received: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let received = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.on('data', (chunk) => (received += chunk));
    socket.on('error', () => undefined);
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after ${limitMs} ms`));
    }, limitMs);
    socket.on('close', () => {
      clearTimeout(guard);
      resolve({ ms: performance.now() - started, received });
    });
  });
}

describe('HTTP timeouts', () => {
  it('closes an idle keep-alive connection after HTTP_KEEP_ALIVE_TIMEOUT_MS', async () => {
    const upstream = await servers.demo();
    const gateway = await servers.gateway(upstream.url, { HTTP_KEEP_ALIVE_TIMEOUT_MS: '300' });
    const { ms, received } = await closedAfter(gateway.port, 'GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n', 5_000);
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(3_000);
  });

  it('gives up on a request whose body never arrives after HTTP_REQUEST_TIMEOUT_MS', async () => {
    const upstream = await servers.demo();
    const gateway = await servers.gateway(upstream.url, { HTTP_HEADERS_TIMEOUT_MS: '400', HTTP_REQUEST_TIMEOUT_MS: '700' });
    const head = 'POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"qu';
    const { ms, received } = await closedAfter(gateway.port, head, 5_000);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeGreaterThanOrEqual(600);
    expect(ms).toBeLessThan(3_000);
    expect(upstream.calls).toBe(0);
  });
});

describe('gateway_limit_refusals_total', () => {
  const refusals = async (url: string) => {
    const text = await (await fetch(url.replace('/graphql', '/metrics'))).text();
    const count = (limit: string) => Number(new RegExp(`^gateway_limit_refusals_total\\{limit="${limit}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { upstream_calls: count('upstream_calls'), response_bytes: count('response_bytes'), rate_limit: count('rate_limit') };
  };

  it('counts the operations each limit refused', async () => {
    const upstream = await servers.demo({ record: true, rateLimit: { limit: 3, windowMs: 60_000 } });
    const gateway = await servers.gateway(upstream.url, { MAX_UPSTREAM_CALLS: '2', MAX_RESPONSE_BYTES: '1024' });
    expect(await refusals(gateway.url)).toEqual({ upstream_calls: 0, response_bytes: 0, rate_limit: 0 });

    const overBudget = await gateway.post({ query: '{ visitors(ids: ["a1", "a2", "a3"]) { id } }' }, DEMO_HEADERS);
    expect(overBudget.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    // The full visitor is about 1.2 KiB of JSON: served once it is already over 1 KiB.
    const tooBig = await gateway.post({ query: `{ visitor(id: "${FULL_VISITOR_ID}") { id } }` }, DEMO_HEADERS);
    expect(tooBig.body.errors?.[0]?.extensions?.code).toBe('RESPONSE_TOO_LARGE');
    // Two calls of the bucket's three are spent; an operation needing two cannot fit.
    await gateway.post({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` }, DEMO_HEADERS);
    const limited = await gateway.post({ query: `{ a: visitor(id: "${SEED_VISITOR_ID}") { id } b: visitor(id: "x2") { id } }` }, DEMO_HEADERS);
    expect(limited.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(await refusals(gateway.url)).toEqual({ upstream_calls: 1, response_bytes: 1, rate_limit: 1 });
  });
});
