import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startFakeUpstream, type FakeUpstream } from '../../helpers/fakeUpstream.js';
import { SEED_VISITOR_ID } from '../../../src/demo/visitors.js';

describe('fake upstream', () => {
  let fake: FakeUpstream;
  let agent: Agent;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    agent = new Agent({ headersTimeout: 500, bodyTimeout: 500 });
  });
  afterAll(async () => {
    await agent.close();
    await fake.stop();
  });
  beforeEach(() => {
    fake.reset();
  });

  const get = (path = '/api/v1/livechat/visitors.info?visitorId=abc', headers: Record<string, string> = {}) =>
    request(new URL(path, fake.url), { dispatcher: agent, headers });

  it('answers with the seed visitor by default and records the request', async () => {
    const res = await get('/api/v1/livechat/visitors.info?visitorId=abc', { 'x-user-id': 'u1' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const body = (await res.body.json()) as { visitor: { _id: string }; success: boolean };
    expect(body.success).toBe(true);
    expect(body.visitor._id).toBe(SEED_VISITOR_ID);
    expect(fake.calls).toBe(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'GET',
      path: '/api/v1/livechat/visitors.info',
      query: { visitorId: 'abc' },
    });
    expect(fake.requests[0]?.headers['x-user-id']).toBe('u1');
  });

  it('passes the call index to the script and sends status, headers and body', async () => {
    fake.setScript((_req, i) => ({ status: 503, headers: { 'X-Call': String(i) }, body: { n: i } }));
    const first = await get();
    expect(first.statusCode).toBe(503);
    expect(first.headers['x-call']).toBe('0');
    expect(await first.body.json()).toStrictEqual({ n: 0 });
    const second = await get();
    expect(second.headers['x-call']).toBe('1');
    expect(await second.body.text()).toBe('{"n":1}');
  });

  it('hang: never answers, so the client times out waiting for headers', async () => {
    fake.setScript(() => ({ hang: true }));
    await expect(request(new URL('/x', fake.url), { dispatcher: agent, headersTimeout: 150 })).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(fake.calls).toBe(1);
  });

  it('delayMs: answers after the delay', async () => {
    fake.setScript(() => ({ delayMs: 120, body: 'late' }));
    const started = performance.now();
    const res = await get();
    expect(await res.body.text()).toBe('late');
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
  });

  it('resetBeforeHeaders: the socket closes without a response', async () => {
    fake.setScript(() => ({ resetBeforeHeaders: true }));
    await expect(get()).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
  });

  it('resetMidBody: headers arrive, then the body fails', async () => {
    fake.setScript(() => ({ resetMidBody: true, body: { padding: 'p'.repeat(2_000) } }));
    const res = await get();
    expect(res.statusCode).toBe(200);
    expect(Number(res.headers['content-length'])).toBeGreaterThan(2_000);
    await expect(res.body.text()).rejects.toThrow();
  });

  it('truncated: fewer bytes than the declared content-length, then a clean close', async () => {
    const body = JSON.stringify({ visitor: { _id: 'x', name: 'n'.repeat(1_000) }, success: true });
    fake.setScript(() => ({ truncated: true, body }));
    const res = await get();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    await expect(res.body.text()).rejects.toThrow();
  });

  it('trickle: the full body arrives in slow chunks', async () => {
    const body = JSON.stringify({ visitor: { _id: 'slow' }, success: true });
    fake.setScript(() => ({ body, trickle: { chunkBytes: 10, intervalMs: 20 } }));
    const started = performance.now();
    const res = await get();
    expect(await res.body.text()).toBe(body);
    const chunks = Math.ceil(Buffer.byteLength(body) / 10);
    expect(performance.now() - started).toBeGreaterThanOrEqual((chunks - 1) * 20 - 10);
  });

  // undici's own header/body timeouts tick at ~0.5-1 s granularity, so a signal gives the precise deadline here.
  it('trickle: a client deadline shorter than the trickle aborts the body read', async () => {
    fake.setScript(() => ({ body: 'x'.repeat(100), trickle: { chunkBytes: 10, intervalMs: 100 } }));
    const res = await request(new URL('/x', fake.url), { dispatcher: agent, signal: AbortSignal.timeout(150) });
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
  });

  it('hugeBytes: streams exactly that many bytes of valid JSON, chunked', async () => {
    const size = 3 * 1024 * 1024 + 17;
    fake.setScript(() => ({ hugeBytes: size }));
    const res = await get();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const text = await res.body.text();
    expect(Buffer.byteLength(text)).toBe(size);
    const parsed = JSON.parse(text) as { success: boolean; visitor: { _id: string } };
    expect(parsed.success).toBe(true);
    expect(parsed.visitor._id).toEqual(expect.any(String));
  });

  it('hugeBytes: a client that gives up early does not wedge the server', async () => {
    fake.setScript((_req, i) => (i === 0 ? { hugeBytes: 64 * 1024 * 1024 } : { body: 'ok' }));
    const res = await get();
    const reader = res.body[Symbol.asyncIterator]();
    await reader.next();
    res.body.destroy();
    const next = await get();
    expect(await next.body.text()).toBe('ok');
  });

  it('redirect: 302 with Location, not followed by undici request', async () => {
    fake.setScript(() => ({ redirect: 'http://elsewhere.invalid/api/v1/livechat/visitors.info' }));
    const res = await get();
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('http://elsewhere.invalid/api/v1/livechat/visitors.info');
    await res.body.dump();
  });

  it('a throwing script yields a 500 rather than a hang', async () => {
    fake.setScript(() => {
      throw new Error('boom');
    });
    const res = await get();
    expect(res.statusCode).toBe(500);
    expect(await res.body.text()).toContain('boom');
  });
});

describe('fake upstream stop()', () => {
  it('returns promptly while a request hangs, failing that request', async () => {
    const fake = await startFakeUpstream(() => ({ hang: true }));
    const pending = request(new URL('/x', fake.url), { headersTimeout: 10_000 });
    const settled = pending.then(
      () => 'resolved',
      (err: { code?: string }) => err.code ?? 'rejected',
    );
    while (fake.calls === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = performance.now();
    await fake.stop();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await settled).toBe('UND_ERR_SOCKET');
  });
});
