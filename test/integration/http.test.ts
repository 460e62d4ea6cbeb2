import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../../src/demo/upstream.js';
import { DEMO_CREDENTIALS, FULL_VISITOR_ID, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { SANDBOX_ORIGIN } from '../../src/http/server.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('HTTP surface', () => {
  let upstream: DemoUpstream;
  let gateway: TestGateway;
  let production: TestGateway;

  beforeAll(async () => {
    upstream = await startDemoUpstream();
    gateway = await startTestGateway(
      upstream.url,
      { CORS_ORIGINS: 'https://console.example.org' },
      {
        sandboxHeaders: { 'X-Auth-Token': DEMO_CREDENTIALS.authToken, 'X-User-Id': DEMO_CREDENTIALS.userId },
      },
    );
    production = await startTestGateway(upstream.url, { NODE_ENV: 'production', CORS_ORIGINS: 'https://console.example.org' });
  });
  afterAll(async () => {
    await gateway.stop();
    await production.stop();
    await upstream.stop();
  });

  it('opens Apollo Sandbox in a browser with the example query, variables and headers', async () => {
    const res = await fetch(gateway.url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('embeddable-sandbox');
    expect(html).toContain('visitor(id: $id)');
    expect(html).toContain(FULL_VISITOR_ID);
    expect(html).toContain('chats(first: 5)');
    expect(html).toContain(DEMO_CREDENTIALS.authToken);
    expect(html).toContain('X-User-Id');
  });

  it('lets the hosted Sandbox and CORS_ORIGINS through a preflight, and no other origin', async () => {
    const preflight = (origin: string, url = gateway.url) =>
      fetch(url, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-auth-token,x-user-id',
        },
      });
    const sandbox = await preflight(SANDBOX_ORIGIN);
    expect(sandbox.status).toBe(204);
    expect(sandbox.headers.get('access-control-allow-origin')).toBe(SANDBOX_ORIGIN);
    expect(sandbox.headers.get('access-control-allow-headers')).toContain('x-auth-token');
    const listed = await preflight('https://console.example.org');
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://console.example.org');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // Production drops the Sandbox origin but keeps the operator's list.
    expect((await preflight(SANDBOX_ORIGIN, production.url)).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight('https://console.example.org', production.url)).headers.get('access-control-allow-origin')).toBe('https://console.example.org');
  });

  it('answers 413 for a body over 100 KiB, and keeps serving', async () => {
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ __typename }`, pad: 'x'.repeat(101 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { errors: Array<{ extensions: Record<string, unknown> }> }).errors[0]!.extensions).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      requestId: res.headers.get('x-request-id'),
    });
    expect((await gateway.post({ query: '{ __typename }' })).body.data).toEqual({ __typename: 'Query' });
  });

  it('refuses JSON array batching', async () => {
    const res = await gateway.post([{ query: '{ __typename }' }, { query: '{ __typename }' }]);
    expect(res.status).toBe(400);
  });

  it('puts the request id on the refusals Apollo makes before any plugin runs, and logs them', async () => {
    const refusals = [
      // A batch, a simple cross-site GET (CSRF), a body Apollo cannot use.
      await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ query: '{ __typename }' }]) }),
      await fetch(`${gateway.url}?query=${encodeURIComponent('{ __typename }')}`),
      await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '"just a string"' }),
    ];
    for (const [i, res] of refusals.entries()) {
      expect(res.status, `refusal ${i}`).toBe(400);
      const requestId = res.headers.get('x-request-id');
      const body = (await res.json()) as { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
      expect(body.errors.length, `refusal ${i}`).toBeGreaterThan(0);
      for (const error of body.errors) expect(error.extensions.requestId, `refusal ${i}`).toBe(requestId);
      expect(
        gateway.logs.some((l) => l.requestId === requestId && l.msg === 'request refused before execution'),
        `refusal ${i} logged`,
      ).toBe(true);
    }
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await gateway.post('{"query": ');
    expect(res.status).toBe(400);
    expect(res.body.errors![0]!.extensions).toEqual({ code: 'BAD_REQUEST', requestId: res.headers.get('x-request-id') });
  });

  it('blocks a simple cross-site POST: a JSON document sent as text/plain never executes', async () => {
    const before = upstream.calls;
    for (const type of ['text/plain', 'text/plain; note=json', 'application/x-www-form-urlencoded']) {
      const res = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': type, 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId },
        body: JSON.stringify({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` }),
      });
      expect(res.status, type).toBe(400);
      expect(((await res.json()) as { data?: unknown }).data).toBeUndefined();
    }
    expect(upstream.calls).toBe(before);
  });

  it('serves GET with a preflight-forcing header, through Apollo Server', async () => {
    const res = await fetch(`${gateway.url}?query=${encodeURIComponent(`{ visitor(id: "${SEED_VISITOR_ID}") { id } }`)}`, {
      headers: { 'apollo-require-preflight': 'true', 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { visitor: { id: SEED_VISITOR_ID } } });
  });

  it('blocks a simple cross-site GET (CSRF prevention)', async () => {
    const res = await fetch(`${gateway.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(res.status).toBe(400);
    // A simple request's headers (a browser adds these to a cross-site GET) prove nothing either.
    const simple = await fetch(`${gateway.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/json', 'content-type': 'text/plain', 'accept-language': 'en' },
    });
    expect(simple.status).toBe(400);
  });

  it('serves a GET that carries the credentials without any preflight header (urql by default)', async () => {
    const credentials: Record<string, string> = { 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId };
    const halves: Record<string, string>[] = [{ 'x-auth-token': DEMO_CREDENTIALS.authToken }, { 'x-user-id': DEMO_CREDENTIALS.userId }];
    for (const headers of [credentials, ...halves]) {
      const res = await fetch(`${gateway.url}?query=${encodeURIComponent(`{ visitor(id: "${SEED_VISITOR_ID}") { id } }`)}`, { headers });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data?: unknown; errors?: Array<{ extensions: { code: string } }> };
      if (headers === credentials) expect(body).toEqual({ data: { visitor: { id: SEED_VISITOR_ID } } });
      else expect(body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    }
  });

  it("marks every GraphQL answer as one caller's: Cache-Control private, no-store and Vary on the credentials", async () => {
    const credentials = { 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId };
    const query = `{ visitor(id: "${SEED_VISITOR_ID}") { id } }`;
    const answers = [
      await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', ...credentials }, body: JSON.stringify({ query }) }),
      await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...credentials },
        body: JSON.stringify({ query, extensions: {} }),
      }),
      await fetch(`${gateway.url}?query=${encodeURIComponent(query)}`, { headers: credentials }),
      await fetch(`${production.url}?query=${encodeURIComponent(query)}`, { headers: credentials }),
      // Refusals too: a cached error would be served to the next caller as well.
      await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' }),
      await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ nope }' }) }),
      // A browser's preflight and CORS answer keep Vary: Origin beside the credentials.
      await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://console.example.org', ...credentials },
        body: JSON.stringify({ query }),
      }),
    ];
    for (const [i, res] of answers.entries()) {
      expect(res.headers.get('cache-control'), `answer ${i}`).toBe('private, no-store');
      const vary = (res.headers.get('vary') ?? '').toLowerCase().split(/\s*,\s*/);
      expect(vary, `answer ${i}`).toEqual(expect.arrayContaining(['x-auth-token', 'x-user-id', 'accept']));
      await res.arrayBuffer();
    }
    expect((answers.at(-1)!.headers.get('vary') ?? '').toLowerCase()).toContain('origin');
  });

  it('picks the media type from Accept as Apollo Server does, each time the same, with a Content-Length', async () => {
    const cases: Array<[string, number, string | undefined]> = [
      ['application/graphql-response+json,application/json;q=0.9', 200, 'application/graphql-response+json; charset=utf-8'],
      ['application/json;q=0.5, application/graphql-response+json', 200, 'application/graphql-response+json; charset=utf-8'],
      ['application/json', 200, 'application/json; charset=utf-8'],
      ['*/*', 200, 'application/json; charset=utf-8'],
      ['text/html', 406, undefined],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [accept, status, type] of cases) {
        const res = await fetch(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept, 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId },
          body: JSON.stringify({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }`, extensions: { clientLibrary: { name: 'test' } } }),
        });
        const text = await res.text();
        expect(res.status, accept).toBe(status);
        if (type) expect(res.headers.get('content-type'), accept).toBe(type);
        expect(res.headers.get('transfer-encoding'), accept).toBeNull();
        expect(Number(res.headers.get('content-length')), accept).toBe(Buffer.byteLength(text));
      }
    }
  });

  it('serves /healthz and /readyz with the upstream version, and 404 elsewhere', async () => {
    const health = await fetch(gateway.url.replace('/graphql', '/healthz'));
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(gateway.url.replace('/graphql', '/readyz'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', upstream: { version: '8.4.1' } });
    expect((await fetch(gateway.url.replace('/graphql', '/nope'))).status).toBe(404);
  });

  it('turns introspection off and hides stack traces in production', async () => {
    const res = await production.post({ query: '{ __schema { types { name } } }' });
    expect(res.status).toBe(400);
    expect(res.body.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const bad = await production.post({ query: '{ visitor(id: "x y") { id } }' });
    expect(bad.body.errors![0]!.extensions!.stacktrace).toBeUndefined();
  });
});
