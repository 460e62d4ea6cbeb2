import { describe, expect, it } from 'vitest';
import { MAX_UPSTREAM_ERROR_LENGTH } from '../../src/errors.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { useServers } from '../helpers/servers.js';

/**
 * What Rocket.Chat answers is checked at the edge, end to end through a real gateway: an answer
 * that is not what it claims to be is a coded error for that visitor, never a 500 and never served.
 */
const servers = useServers();

const ONE = (id: string) => ({ query: `{ visitor(id: "${id}") { id name } }` });

describe('upstream error strings', () => {
  it('a 900 KiB error string reaches the client cut to its first characters, and the logs never hold it', async () => {
    const huge = `Something broke: ${'x'.repeat(900 * 1024)}`;
    const upstream = await servers.fake(() => ({ status: 400, body: { success: false, error: huge } }));
    const gateway = await servers.gateway(upstream.url);
    const res = await gateway.post(ONE('vIsItOr0000000001'), DEMO_HEADERS);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ visitor: null });
    const extensions = res.body.errors![0]!.extensions!;
    expect(extensions.code).toBe('UPSTREAM_ERROR');
    expect(extensions.upstream.status).toBe(400);
    expect(extensions.upstream.error).toHaveLength(MAX_UPSTREAM_ERROR_LENGTH);
    expect(extensions.upstream.error.startsWith('Something broke: xxx')).toBe(true);
    expect(JSON.stringify(res.body).length).toBeLessThan(2048);
    expect(JSON.stringify(gateway.logs).length).toBeLessThan(64 * 1024);
  });
});

describe('visitor status', () => {
  it.each(['__proto__', 'constructor', 'toString'])('status %j answers data with status null and a warning, not a 500', async (status) => {
    const id = 'pRoToStAtUs000001';
    const upstream = await servers.fake(() => ({ body: { visitor: { _id: id, name: 'Odd Status', status }, success: true } }));
    const gateway = await servers.gateway(upstream.url);
    const res = await gateway.post({ query: `{ visitor(id: "${id}") { id name status } }` }, DEMO_HEADERS);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { visitor: { id, name: 'Odd Status', status: null } } });
    const warnings = gateway.logs.filter((l) => l.level === 40 && String(l.msg).includes('unknown visitor status'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ status, visitorId: id });
  });
});

describe('dates', () => {
  it('an impossible date is UPSTREAM_BAD_RESPONSE naming the field, never shifted to March 1st', async () => {
    const id = 'fEbRuArY30vIsItOr';
    const upstream = await servers.fake(() => ({ body: { visitor: { _id: id, name: 'Leap', ts: '2024-02-30T10:00:00.000Z' }, success: true } }));
    const gateway = await servers.gateway(upstream.url);
    for (const query of [`{ visitor(id: "${id}") { id createdAt } }`, `{ visitor(id: "${id}") { id name } }`]) {
      const res = await gateway.post({ query }, DEMO_HEADERS);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ visitor: null });
      expect(res.body.errors).toHaveLength(1);
      const error = res.body.errors![0]!;
      expect(error.extensions).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', upstream: { status: 200, error: null } });
      expect(error.message).toContain('visitor.ts');
      expect(JSON.stringify(res.body)).not.toContain('2024-02-30');
      expect(JSON.stringify(res.body)).not.toContain('2024-03-01');
    }
  });
});

describe('nesting', () => {
  const deepText = (levels: number) => `${'{"k":'.repeat(levels)}1${'}'.repeat(levels)}`;
  const deep = (levels: number) => JSON.parse(deepText(levels)) as Record<string, unknown>;
  const ids = ['sHaLlOwViSiToR001', 'dEePvIsItOr000002', 'sHaLlOwViSiToR003'];
  const BATCH = {
    query: 'query($ids: [ID!]!) { visitors(ids: $ids) { id customFields externalIds { metadata } } }',
    variables: { ids },
  };

  it('a visitor nested 5 000 levels deep in one of three is UPSTREAM_BAD_RESPONSE; the other two answer, HTTP 200', async () => {
    const upstream = await servers.fake((req) => {
      const id = req.query.visitorId!;
      // As text: the fake's own JSON.stringify would overflow on 5 000 levels, as the gateway's did.
      const livechatData = id === ids[1] ? deepText(5000) : JSON.stringify({ plan: 'basic', nested: { ok: true } });
      return { body: `{"visitor":{"_id":${JSON.stringify(id)},"livechatData":${livechatData}},"success":true}` };
    });
    const gateway = await servers.gateway(upstream.url);
    for (const send of [
      () => gateway.post(BATCH, DEMO_HEADERS),
      // The other path (Apollo Server) serialises its answers too.
      async () => {
        const url = `${gateway.url}?query=${encodeURIComponent(BATCH.query)}&variables=${encodeURIComponent(JSON.stringify(BATCH.variables))}`;
        const res = await fetch(url, { headers: { ...DEMO_HEADERS, 'apollo-require-preflight': 'true' } });
        return { status: res.status, body: (await res.json()) as { data?: any; errors?: any[] } };
      },
    ]) {
      const res = await send();
      expect(res.status).toBe(200);
      const shallow = { customFields: { plan: 'basic', nested: { ok: true } }, externalIds: [] };
      expect(res.body.data).toEqual({ visitors: [{ id: ids[0], ...shallow }, null, { id: ids[2], ...shallow }] });
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors![0]).toMatchObject({
        path: ['visitors', 1],
        extensions: { code: 'UPSTREAM_BAD_RESPONSE', upstream: { status: 200, error: null } },
      });
      expect(res.body.errors![0]!.message).toContain('visitor.livechatData is nested deeper than 20');
    }
  });

  it('takes MAX_JSON_DEPTH, and bounds externalIds[].metadata the same way', async () => {
    const upstream = await servers.fake((req) => {
      const id = req.query.visitorId!;
      const metadata = id === ids[2] ? deep(4) : deep(3);
      return { body: { visitor: { _id: id, livechatData: deep(3), externalIds: [{ appId: 'a', entityId: 'e', metadata }] }, success: true } };
    });
    const gateway = await servers.gateway(upstream.url, { MAX_JSON_DEPTH: '3' });
    const res = await gateway.post(BATCH, DEMO_HEADERS);
    expect(res.status).toBe(200);
    expect(res.body.data!.visitors[0]).toEqual({ id: ids[0], customFields: deep(3), externalIds: [{ metadata: deep(3) }] });
    expect(res.body.data!.visitors[2]).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors![0]!.path).toEqual(['visitors', 2]);
    expect(res.body.errors![0]!.message).toContain('visitor.externalIds.0.metadata is nested deeper than 3');
  });
});

describe('the visitor asked for', () => {
  const A = 'vIsItOrAsKeDfOr0A';
  const B = 'sOmEoNeElSe00000B';

  it.each([
    ['no cache', {}],
    ['with the shared cache', { CACHE_TTL_MS: '60000' }],
  ] as const)('an answer carrying another visitor is UPSTREAM_BAD_RESPONSE, never served as the one asked, never cached (%s)', async (_label, env) => {
    const upstream = await servers.fake(() => ({ body: { visitor: { _id: B, name: 'Somebody Else' }, success: true } }));
    const gateway = await servers.gateway(upstream.url, { UPSTREAM_RETRIES: '2', ...env });
    for (let i = 1; i <= 2; i++) {
      const res = await gateway.post(ONE(A), DEMO_HEADERS);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ visitor: null });
      expect(res.body.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', upstream: { status: 200, error: null } });
      expect(JSON.stringify(res.body)).not.toContain(B);
      expect(JSON.stringify(res.body)).not.toContain('Somebody Else');
      // Not retried, and not cached: the second query goes upstream again.
      expect(upstream.calls).toBe(i);
    }
    // Once Rocket.Chat answers with the right visitor, that is what is served (and, with the cache, kept).
    upstream.setScript((req) => ({ body: { visitor: { _id: req.query.visitorId, name: 'Right One' }, success: true } }));
    expect((await gateway.post(ONE(A), DEMO_HEADERS)).body).toEqual({ data: { visitor: { id: A, name: 'Right One' } } });
    expect((await gateway.post(ONE(A), DEMO_HEADERS)).body).toEqual({ data: { visitor: { id: A, name: 'Right One' } } });
    expect(upstream.calls).toBe('CACHE_TTL_MS' in env ? 3 : 4);
  });
});
