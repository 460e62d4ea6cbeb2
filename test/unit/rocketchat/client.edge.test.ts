import { afterEach, describe, expect, it } from 'vitest';
import { HttpRocketChatClient, type RocketChatClientOptions } from '../../../src/rocketchat/client.js';
import { startFakeUpstream, type FakeScript, type FakeUpstream } from '../../helpers/fakeUpstream.js';
import { rejection } from '../../helpers/promises.js';

/** The client against a scripted upstream on loopback: what it accepts from Rocket.Chat's answers. */
const credentials = { authToken: 'tok', userId: 'user' };
let upstream: FakeUpstream | undefined;
let client: HttpRocketChatClient | undefined;
afterEach(async () => {
  await client?.close();
  await upstream?.stop();
  client = upstream = undefined;
});

async function against(script: FakeScript, options: Partial<RocketChatClientOptions> = {}): Promise<HttpRocketChatClient> {
  upstream = await startFakeUpstream(script);
  client = new HttpRocketChatClient({
    baseUrl: upstream.url,
    timeoutMs: 1000,
    deadlineMs: 2000,
    retries: 2,
    retryBudget: 1,
    connections: 4,
    queue: 10,
    breakerThreshold: 2,
    breakerHalfOpenMs: 60_000,
    retryBaseDelayMs: 1,
    ...options,
  });
  return client;
}

describe('HttpRocketChatClient: the answer must be the visitor asked for', () => {
  it('another visitor is UPSTREAM_BAD_RESPONSE, never naming the other id, not retried, not a fault', async () => {
    const c = await against(() => ({ body: { visitor: { _id: 'oThErViSiToR0000B', name: 'B' }, success: true } }));
    for (let i = 0; i < 3; i++) {
      const err = await rejection(c.getVisitor('aSkEdViSiToR0000A', { credentials }));
      expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
      expect(err.extensions.upstream).toStrictEqual({ status: 200, error: null });
      expect(err.message).toContain('visitor._id is not the id asked for');
      expect(JSON.stringify({ m: err.message, e: err.extensions })).not.toContain('oThErViSiToR0000B');
      expect(err.retryable).toBe(false);
    }
    expect(upstream!.calls).toBe(3);
    // Rocket.Chat did answer: three of them, past a threshold of 2, leave the breaker closed.
    expect(c.breakerState).toBe('closed');
  });

  it('the visitor asked for passes, matched exactly (not by case or prefix)', async () => {
    const c = await against((req) => ({ body: { visitor: { _id: req.query.visitorId, name: 'A' }, success: true } }));
    await expect(c.getVisitor('aSkEdViSiToR0000A', { credentials })).resolves.toStrictEqual({ _id: 'aSkEdViSiToR0000A', name: 'A' });
    upstream!.setScript(() => ({ body: { visitor: { _id: 'askedvisitor0000a' }, success: true } }));
    expect((await rejection(c.getVisitor('aSkEdViSiToR0000A', { credentials }))).code).toBe('UPSTREAM_BAD_RESPONSE');
    upstream!.setScript(() => ({ body: { visitor: { _id: 'aSkEdViSiToR0000A-and-more' }, success: true } }));
    expect((await rejection(c.getVisitor('aSkEdViSiToR0000A', { credentials }))).code).toBe('UPSTREAM_BAD_RESPONSE');
  });
});

describe('HttpRocketChatClient: maxJsonDepth', () => {
  const deepBody = (id: string, levels: number) => `{"visitor":{"_id":"${id}","livechatData":${'{"k":'.repeat(levels)}1${'}'.repeat(levels)}},"success":true}`;

  it('defaults to 20', async () => {
    const c = await against((req) => ({ body: deepBody(req.query.visitorId!, Number(req.query.visitorId!.slice(1))) }));
    await expect(c.getVisitor('d20', { credentials })).resolves.toMatchObject({ _id: 'd20' });
    const err = await rejection(c.getVisitor('d21', { credentials }));
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.message).toContain('visitor.livechatData is nested deeper than 20');
  });

  it('takes the option', async () => {
    const c = await against((req) => ({ body: deepBody(req.query.visitorId!, Number(req.query.visitorId!.slice(1))) }), { maxJsonDepth: 3 });
    await expect(c.getVisitor('d3', { credentials })).resolves.toMatchObject({ _id: 'd3' });
    expect((await rejection(c.getVisitor('d4', { credentials }))).message).toContain('nested deeper than 3');
    expect(upstream!.calls).toBe(2);
  });
});

describe('HttpRocketChatClient.serverInfo: the version /readyz repeats', () => {
  it.each(['8.4.1', '7.0.0-rc.1', '6.5.0-develop+build.7'])('%s is taken as it is', async (version) => {
    const c = await against(() => ({ body: { version, success: true } }));
    await expect(c.serverInfo()).resolves.toStrictEqual({ version, success: true });
  });

  it.each([
    ['900 KiB', 'x'.repeat(900 * 1024)],
    ['markup', '<b>8.4.1</b>'],
    ['a newline', '8.4.1\nX-Injected: 1'],
    ['empty', ''],
  ])('a version that is not one (%s) is UPSTREAM_BAD_RESPONSE, never repeated', async (_label, version) => {
    const c = await against(() => ({ body: { version, success: true } }));
    const err = await rejection(c.serverInfo());
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.extensions.upstream).toStrictEqual({ status: 200, error: null });
    if (version) expect(JSON.stringify({ m: err.message, e: err.extensions })).not.toContain(version);
  });
});
