/**
 * HttpRocketChatClient with tracing on, against a real HTTP server on loopback: which spans a
 * shared call and its waiters make. The spans go to an in-memory exporter.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { tracing as sdk } from '@opentelemetry/sdk-node';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpRocketChatClient, ROUTES } from '../../../src/rocketchat/client.js';
import { Cancellation } from '../../../src/rocketchat/cancellation.js';
import { callerAborted } from '../../../src/errors.js';
import { Tracing } from '../../../src/tracing.js';
import { rejection } from '../../helpers/promises.js';

const CREDENTIALS = { authToken: 'token-1', userId: 'user-1' };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Answers visitors.info after `delayMs`; the first `failures` answers are 503. */
async function upstream(delayMs: number, failures = 0): Promise<string> {
  let failed = 0;
  const server: Server = createServer((req, res) => {
    const id = new URL(req.url!, 'http://x').searchParams.get('visitorId');
    setTimeout(() => {
      if (failed < failures) {
        failed++;
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ visitor: { _id: id, name: 'V' }, success: true }));
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function traced(baseUrl: string) {
  const exporter = new sdk.InMemorySpanExporter();
  const provider = new sdk.BasicTracerProvider({ spanProcessors: [new sdk.SimpleSpanProcessor(exporter)] });
  const tracing = new Tracing(provider.getTracer('test'), { incoming: new W3CTraceContextPropagator() });
  const client = new HttpRocketChatClient({
    baseUrl,
    timeoutMs: 2000,
    deadlineMs: 5000,
    retries: 1,
    retryBudget: 1,
    connections: 1,
    queue: 10,
    breakerThreshold: 100,
    breakerHalfOpenMs: 1000,
    tracing,
  });
  cleanups.push(async () => {
    await client.close();
    await provider.shutdown();
  });
  return { client, spans: () => exporter.getFinishedSpans() };
}

const attemptsOf = (spans: ReturnType<ReturnType<typeof traced>['spans']>) => spans.filter((s) => s.attributes['rocketchat.coalesced'] === false);
const waitersOf = (spans: ReturnType<ReturnType<typeof traced>['spans']>) => spans.filter((s) => s.attributes['rocketchat.coalesced'] === true);

describe('HttpRocketChatClient tracing', () => {
  it('a caller already gone is refused without a span: it joined nothing', async () => {
    const { client, spans } = traced(await upstream(100));
    const inFlight = client.getVisitor('vIsItOr0001', { credentials: CREDENTIALS });
    const gone = new Cancellation();
    gone.cancel(callerAborted());
    expect(await rejection(client.getVisitor('vIsItOr0001', { credentials: CREDENTIALS, cancellation: gone }))).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    await inFlight;
    expect(waitersOf(spans())).toHaveLength(0);
    expect(attemptsOf(spans())).toHaveLength(1);
  });

  it('a waiter that joined before a retry is linked from the retry attempt, and links to the attempt it joined', async () => {
    const { client, spans } = traced(await upstream(80, 1));
    const first = client.getVisitor('vIsItOr0001', { credentials: CREDENTIALS });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = client.getVisitor('vIsItOr0001', { credentials: CREDENTIALS });
    await Promise.all([first, second]);
    const attempts = attemptsOf(spans());
    expect(attempts.map((s) => s.attributes['http.request.resend_count'] ?? 0)).toEqual([0, 1]);
    const [waiter] = waitersOf(spans());
    expect(waiter).toBeDefined();
    expect(waiter!.name).toBe(`GET ${ROUTES.visitorsInfo}`);
    const waiterId = waiter!.spanContext().spanId;
    // The attempt it joined links back (added while running); the retry carries it from its start.
    for (const attempt of attempts) expect(attempt.links.map((l) => l.context.spanId)).toContain(waiterId);
    expect(waiter!.links.map((l) => l.context.spanId)).toEqual([attempts[0]!.spanContext().spanId]);
  });
});
