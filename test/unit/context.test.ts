import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createContext, readCredentials, type ContextDeps } from '../../src/context.js';
import { Cancellation } from '../../src/rocketchat/cancellation.js';
import { DEMO_CREDENTIALS, DEMO_VISITORS, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { GatewayError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import type { CallOptions, RocketChatClient } from '../../src/rocketchat/client.js';
import { VisitorsAPI } from '../../src/rocketchat/VisitorsAPI.js';
import { otherRoutes } from '../helpers/otherRoutes.js';

const DEMO_HEADERS: IncomingHttpHeaders = {
  'x-auth-token': DEMO_CREDENTIALS.authToken,
  'x-user-id': DEMO_CREDENTIALS.userId,
};

function refusal(headers: IncomingHttpHeaders): string {
  const result = readCredentials(headers);
  expect(result).toHaveProperty('refused');
  return (result as { refused: string }).refused;
}

describe('readCredentials', () => {
  it("accepts BEHAVIOR.md's demo credentials, exactly as sent", () => {
    expect(readCredentials(DEMO_HEADERS)).toStrictEqual({
      authToken: 'RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f',
      userId: 'rbAXPnMktTFbNpwtJ',
    });
  });

  it('ignores unrelated headers (only the two credentials come out)', () => {
    const result = readCredentials({ ...DEMO_HEADERS, authorization: 'Bearer x', cookie: 'a=b', 'x-real-ip': '1.2.3.4' });
    expect(Object.keys(result).sort()).toStrictEqual(['authToken', 'userId']);
  });

  it.each<[string, IncomingHttpHeaders]>([
    ['no headers', {}],
    ['no X-Auth-Token', { 'x-user-id': DEMO_CREDENTIALS.userId }],
    ['no X-User-Id', { 'x-auth-token': DEMO_CREDENTIALS.authToken }],
    ['empty X-Auth-Token', { 'x-auth-token': '', 'x-user-id': DEMO_CREDENTIALS.userId }],
    ['empty X-User-Id', { 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': '' }],
  ])('refuses %s as missing', (_label, headers) => {
    expect(refusal(headers)).toMatch(/missing/i);
  });

  it('refuses X-Auth-Token sent twice (an array)', () => {
    const headers = { 'x-auth-token': [DEMO_CREDENTIALS.authToken, 'other'], 'x-user-id': DEMO_CREDENTIALS.userId };
    expect(refusal(headers as unknown as IncomingHttpHeaders)).toMatch(/once/);
  });

  it('refuses X-User-Id sent twice (an array)', () => {
    const headers = { 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': [DEMO_CREDENTIALS.userId, DEMO_CREDENTIALS.userId] };
    expect(refusal(headers as unknown as IncomingHttpHeaders)).toMatch(/once/);
  });

  it.each([
    ['CR LF', `${DEMO_CREDENTIALS.authToken}\r\nX-Injected: 1`],
    ['LF', `${DEMO_CREDENTIALS.authToken}\n`],
    ['tab', `${DEMO_CREDENTIALS.authToken}\tx`],
    ['NUL', `${DEMO_CREDENTIALS.authToken}\x00`],
    ['DEL', `${DEMO_CREDENTIALS.authToken}\x7f`],
    ['space', 'two words'],
  ])('refuses a token with %s', (_label, token) => {
    refusal({ 'x-auth-token': token, 'x-user-id': DEMO_CREDENTIALS.userId });
  });

  it.each([
    ['CR LF', `${DEMO_CREDENTIALS.userId}\r\n`],
    ['tab', `\t${DEMO_CREDENTIALS.userId}`],
    ['NUL', `a\x00b`],
  ])('refuses a user id with %s', (_label, userId) => {
    refusal({ 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': userId });
  });

  it('accepts exactly 512 characters and refuses 513', () => {
    const at512 = 'a'.repeat(512);
    expect(readCredentials({ 'x-auth-token': at512, 'x-user-id': at512 })).toStrictEqual({ authToken: at512, userId: at512 });
    refusal({ 'x-auth-token': 'a'.repeat(513), 'x-user-id': DEMO_CREDENTIALS.userId });
    refusal({ 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': 'a'.repeat(513) });
  });

  it('never repeats the refused value in the reason', () => {
    const token = 'SeCrEtToKeN\r\nX-Evil: 1';
    expect(refusal({ 'x-auth-token': token, 'x-user-id': DEMO_CREDENTIALS.userId })).not.toContain('SeCrEtToKeN');
  });
});

interface RecordedCall {
  id: string;
  options: CallOptions;
}

function fakeDeps(): { deps: ContextDeps; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const client: RocketChatClient = {
    ...otherRoutes(),
    async getVisitor(id, options) {
      calls.push({ id, options });
      const visitor = DEMO_VISITORS.find((v) => v._id === id);
      if (!visitor) throw new Error(`no fixture ${id}`);
      return visitor;
    },
    async serverInfo() {
      return { version: '8.4.1', success: true };
    },
    async close() {},
  };
  const deps: ContextDeps = {
    client,
    config: { maxIds: 100, maxUpstreamCalls: 120, maxResponseBytes: 4 * 1024 * 1024, upstream: { concurrencyPerRequest: 5 } },
    log: createLogger('silent'),
  };
  return { deps, calls };
}

describe('createContext', () => {
  it('carries the request id and a VisitorsAPI', () => {
    const { deps } = fakeDeps();
    const ctx = createContext(deps, { headers: DEMO_HEADERS, requestId: 'req-1' });
    expect(ctx.requestId).toBe('req-1');
    expect(ctx.visitors).toBeInstanceOf(VisitorsAPI);
    expect(typeof ctx.log.warn).toBe('function');
  });

  it('builds a new VisitorsAPI for every call', () => {
    const { deps } = fakeDeps();
    const a = createContext(deps, { headers: DEMO_HEADERS, requestId: 'req-a' });
    const b = createContext(deps, { headers: DEMO_HEADERS, requestId: 'req-b' });
    expect(a.visitors).not.toBe(b.visitors);
    expect(a).not.toBe(b);
  });

  it("two contexts share no loader cache: each one's load costs its own upstream call with its own credentials", async () => {
    const { deps, calls } = fakeDeps();
    const other = { 'x-auth-token': 'AnotherUsersToken-0123456789', 'x-user-id': 'aNoThErUsEr12345' };
    const a = createContext(deps, { headers: DEMO_HEADERS, requestId: 'req-a' });
    const b = createContext(deps, { headers: other, requestId: 'req-b' });

    const first = await a.visitors.load(SEED_VISITOR_ID);
    await a.visitors.load(SEED_VISITOR_ID); // cached inside a
    const second = await b.visitors.load(SEED_VISITOR_ID);

    expect(first._id).toBe(SEED_VISITOR_ID);
    expect(second._id).toBe(SEED_VISITOR_ID);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.options.credentials).toStrictEqual({ ...DEMO_CREDENTIALS });
    expect(calls[0]?.options.requestId).toBe('req-a');
    expect(calls[1]?.options.credentials).toStrictEqual({ authToken: other['x-auth-token'], userId: other['x-user-id'] });
    expect(calls[1]?.options.requestId).toBe('req-b');
  });

  it("passes the caller's cancellation to the client", async () => {
    const { deps, calls } = fakeDeps();
    const cancellation = new Cancellation();
    const ctx = createContext(deps, { headers: DEMO_HEADERS, requestId: 'req-s', cancellation });
    await ctx.visitors.load(SEED_VISITOR_ID);
    expect(calls[0]?.options.cancellation).toBe(cancellation);
  });

  it('refused credentials answer UNAUTHENTICATED per field without calling the client', async () => {
    const { deps, calls } = fakeDeps();
    const ctx = createContext(deps, { headers: { 'x-user-id': DEMO_CREDENTIALS.userId }, requestId: 'req-x' });
    const err = await ctx.visitors.load(SEED_VISITOR_ID).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).extensions.code).toBe('UNAUTHENTICATED');
    expect(calls).toHaveLength(0);
  });

  it("uses the config's maxIds", async () => {
    const { deps, calls } = fakeDeps();
    const ctx = createContext({ ...deps, config: { ...deps.config, maxIds: 2 } }, { headers: DEMO_HEADERS, requestId: 'r' });
    const thrown = await ctx.visitors.loadMany(['a', 'b', 'c']).catch((err: unknown) => err);
    expect((thrown as GatewayError).extensions.code).toBe('BAD_USER_INPUT');
    expect(calls).toHaveLength(0);
  });

  it('binds the request id into the context logger', () => {
    const lines: string[] = [];
    const { deps } = fakeDeps();
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    const ctx = createContext({ ...deps, log }, { headers: DEMO_HEADERS, requestId: 'req-log-7' });
    ctx.log.info('hello');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ requestId: 'req-log-7', msg: 'hello' });
  });
});
