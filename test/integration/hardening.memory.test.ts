/**
 * Row 2 of the hardening report: floods that grew the heap without bound on the code before the
 * hardening commit, with no credentials at all.
 *   - `{ __typename }` with a unique 90 KiB `operationName` per request: the gateway kept every
 *     name (and its error), and the heap ran out after about 13,000 requests.
 *   - unique valid documents of about 14 KiB: +630 MiB of heap per 500 documents (cached ASTs and
 *     graphql-jit compilations, bounded by count, not by size).
 * Here the real gateway runs as a child process in production mode, with its document caches
 * bounded (DOCUMENT_CACHE_BYTES) and its old generation capped, and its heap is read from
 * GET /metrics after a full garbage collection.
 *
 * graphql-jit compiles a document from its second use on into generated source, which V8's
 * compilation cache kept after the document cache had dropped it (about 2.5 MiB per 14 KiB
 * document); the gateway runs without that cache (src/index.ts), and the last test holds it there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { GRAPHQL_RESPONSE_ACCEPT, VISITOR_FIELDS } from '../helpers/gateway.js';
import { ENTRY, ROOT, ensureBuilt, freePort, waitFor } from '../helpers/process.js';

const MiB = 1024 * 1024;
const DOCUMENT_CACHE_BYTES = 16 * MiB;
/** The old generation's cap: a leak of the old code's size crashes the child instead of swapping the machine. */
const MAX_OLD_SPACE_MB = 384;
/** Allocator slack, JIT code and pools: what a flood may leave behind that no budget accounts for. */
const SLACK = 20 * MiB;
/**
 * What a flood of unique documents through one path may leave behind: that path's document cache,
 * bounded by DOCUMENT_CACHE_BYTES of estimated heap, twice over for estimation error, and the slack.
 */
const ONE_CACHE_BOUND = 2 * DOCUMENT_CACHE_BYTES + SLACK;

/** Loaded first in the child: a full collection on SIGUSR2, acknowledged on stderr. */
const GC_ON_SIGNAL = `data:text/javascript,${encodeURIComponent(
  'let n = 0; process.on("SIGUSR2", () => { globalThis.gc(); globalThis.gc(); process.stderr.write(`gc-done ${++n}\\n`); });',
)}`;

interface Child {
  child: ChildProcess;
  origin: string;
  exited: Promise<number | null>;
  stderr: () => string;
  /** Lines of stdout seen (the operation log), without keeping them. */
  lines: () => number;
  /** Heap used after a full collection, from GET /metrics. */
  heap(): Promise<number>;
}

/** Figures measured along the way, printed once at the end. */
const figures: string[] = [];
afterAll(() => {
  if (figures.length) console.log(`hardening memory figures:\n  ${figures.join('\n  ')}`);
});

let running: Child | undefined;
afterEach(async () => {
  const proc = running;
  running = undefined;
  if (!proc) return;
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  await proc.exited;
});

/** `node --expose-gc … dist/index.js`: the gateway and its embedded demo upstream, as `npm start` runs them. */
async function startChild(env: Record<string, string>): Promise<Child> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--expose-gc', `--max-old-space-size=${MAX_OLD_SPACE_MB}`, '--import', GC_ON_SIGNAL, ENTRY], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // stdout is drained and counted; only its start (the banner) is kept.
  let head = '';
  let lines = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    if (head.length < 64 * 1024) head += chunk.toString();
    for (const byte of chunk) if (byte === 10) lines++;
  });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-64 * 1024);
  });
  const proc: Child = {
    child,
    origin: `http://127.0.0.1:${port}`,
    exited,
    stderr: () => err,
    lines: () => lines,
    async heap() {
      const acknowledged = (err.match(/gc-done \d+/g) ?? []).length;
      child.kill('SIGUSR2');
      await waitFor(() => String((err.match(/gc-done \d+/g) ?? []).length), new RegExp(`^${acknowledged + 1}$`), 10_000);
      const res = await fetch(`${proc.origin}/metrics`, { signal: AbortSignal.timeout(5_000) });
      const text = await res.text();
      const used = Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1]);
      expect(used).toBeGreaterThan(0);
      return used;
    },
  };
  running = proc;
  await waitFor(() => head, /GraphQL at http:\/\/127\.0\.0\.1:\d+\/graphql/, 15_000);
  return proc;
}

/** Sends `total` requests, `concurrency` at a time, over that many keep-alive connections; returns the statuses seen. */
async function flood(pool: Pool, total: number, concurrency: number, body: (i: number) => string): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const res = await pool.request({
          path: '/graphql',
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE_ACCEPT },
          body: body(i),
        });
        await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      }
    }),
  );
  return statuses;
}

/** A valid document of about 14 KiB, unique per `i`: 15 aliased visitors, a visitor and 100 ids (116 distinct, under the budget). */
function document(i: number): string {
  const id = (k: number) => `u${i.toString(36)}x${k.toString(36)}_${'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'}`.slice(0, 64);
  const fields = VISITOR_FIELDS.replace(/\s+/g, ' ').trim();
  const short =
    'id username name status createdAt updatedAt token departmentId phones { phoneNumber } emails { address } customFields userAgent ip host activity disabled';
  const parts = Array.from({ length: 15 }, (_, a) => `a${a}_${'x'.repeat(100)}: visitor(id: "${id(a)}") { ${fields} }`);
  parts.push(`visitors(ids: [${Array.from({ length: 100 }, (_, k) => `"${id(100 + k)}"`).join(' ')}]) { ${short} }`);
  parts.push(`visitor(id: "${id(999)}") { ${fields} }`);
  return `query Q${i} { ${parts.join(' ')} }`;
}

const fmt = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/** Warm-up, baseline heap, the flood, heap again; the gateway must still answer real work afterwards. */
async function measure(what: string, bound: number, flooding: (pool: Pool) => Promise<void>): Promise<{ growth: number }> {
  const started = performance.now();
  const proc = await startChild({ NODE_ENV: 'production', LOG_LEVEL: 'info', DOCUMENT_CACHE_BYTES: String(DOCUMENT_CACHE_BYTES) });
  const pool = new Pool(proc.origin, { connections: 8, headersTimeout: 20_000, bodyTimeout: 20_000 });
  let growth: number;
  try {
    // Warm-up: every code path runs before the baseline, so its JIT code and lazy state are in it.
    const warm = await flood(pool, 16, 8, (i) =>
      JSON.stringify(i % 2 ? { query: document(1_000_000 + i) } : { query: document(1_000_000 + i), extensions: {} }),
    );
    expect([...warm.keys()]).toEqual([200]);
    await flood(pool, 16, 8, (i) => JSON.stringify({ query: '{ __typename }', operationName: `warm${i}`, ...(i % 2 ? { extensions: {} } : {}) }));
    const baseline = await proc.heap();
    const linesBefore = proc.lines();
    await flooding(pool);
    const after = await proc.heap();
    growth = after - baseline;
    figures.push(
      `row 2, ${what}: heap ${fmt(baseline)} -> ${fmt(after)}, growth ${fmt(growth)} (bound ${fmt(bound)}); ` +
        `${proc.lines() - linesBefore} log lines; ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );

    // Alive, and answering real work.
    expect(proc.child.exitCode).toBeNull();
    expect((await fetch(`${proc.origin}/healthz`)).status).toBe(200);
    const res = await fetch(`${proc.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId },
      body: JSON.stringify({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` }),
    });
    expect(await res.json()).toEqual({ data: { visitor: { id: SEED_VISITOR_ID } } });
  } finally {
    await pool.destroy();
  }
  expect(proc.stderr()).not.toMatch(/heap out of memory|FATAL ERROR/);
  return { growth };
}

describe('2. memory under floods of unique names and documents, no credentials', () => {
  beforeAll(() => ensureBuilt(), 60_000);

  it(`1,800 unique 90 KiB operation names keep nothing: heap growth under ${SLACK / MiB} MiB, and the gateway stays up`, async () => {
    const filler = 'N'.repeat(90 * 1024);
    const { growth } = await measure('1,800 unique 90 KiB operation names', SLACK, async (pool) => {
      // Bare bodies and Apollo Client's shape (with extensions) alike.
      const statuses = await flood(pool, 1_800, 8, (i) =>
        JSON.stringify({ query: '{ __typename }', operationName: `Op${i}_${filler}`, ...(i % 2 ? { extensions: {} } : {}) }),
      );
      expect(statuses).toEqual(new Map([[400, 1_800]]));
    });
    expect(growth).toBeLessThan(SLACK);
  }, 60_000);

  it(`1,000 unique valid ~14 KiB documents, each sent once, grow the heap by less than ${ONE_CACHE_BOUND / MiB} MiB (DOCUMENT_CACHE_BYTES ${DOCUMENT_CACHE_BYTES / MiB} MiB), and the gateway stays up`, async () => {
    expect(Buffer.byteLength(document(0))).toBeGreaterThan(14 * 1024);
    expect(Buffer.byteLength(document(0))).toBeLessThan(16 * 1024);
    const { growth } = await measure('1,000 unique ~14 KiB documents, once each', ONE_CACHE_BOUND, async (pool) => {
      // With no credentials each field is UNAUTHENTICATED: HTTP 200, and no upstream call.
      const statuses = await flood(pool, 1_000, 8, (i) => JSON.stringify({ query: document(i), extensions: {} }));
      expect(statuses).toEqual(new Map([[200, 1_000]]));
    });
    expect(growth).toBeLessThan(ONE_CACHE_BOUND);
  }, 60_000);

  // From its second use a document runs compiled by graphql-jit, into generated code that holds the
  // document's own text; V8's compilation cache kept that code after the gateway's cache dropped it.
  it(`500 unique valid ~14 KiB documents, each sent twice (compiled), grow the heap by less than ${ONE_CACHE_BOUND / MiB} MiB (DOCUMENT_CACHE_BYTES ${DOCUMENT_CACHE_BYTES / MiB} MiB), and the gateway stays up`, async () => {
    const { growth } = await measure('500 unique ~14 KiB documents, twice each', ONE_CACHE_BOUND, async (pool) => {
      const statuses = await flood(pool, 1_000, 8, (i) => JSON.stringify({ query: document(i >> 1) }));
      expect(statuses).toEqual(new Map([[200, 1_000]]));
    });
    expect(growth).toBeLessThan(ONE_CACHE_BOUND);
  }, 60_000);
});
