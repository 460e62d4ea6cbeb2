import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { untilCacheReady } from '../helpers/sharedCache.js';
import { SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { persisted } from '../helpers/apq.js';
import { DEMO_HEADERS, type TestGateway } from '../helpers/gateway.js';
import { needsRedis, NO_REDIS, ROOT, startRedis } from '../helpers/process.js';
import { sleep } from '../helpers/promises.js';
import { useServers } from '../helpers/servers.js';

/**
 * README.md's metrics table (Observability) against a real gateway's `GET /metrics`: every row's type
 * and label names are what the gateway exposes, and every `gateway_` metric it exposes has a row.
 * The table is read from README.md at test time, so a row added, renamed or dropped there (or a
 * metric added in the code) is caught here without editing this file.
 */

const TABLE_HEADER = '| metric | type | labels |';
const PROMETHEUS_TYPES = new Set(['counter', 'gauge', 'histogram']);
const LABEL_NAME = /^[a-z_][a-z0-9_]*$/;
const NO_LABELS = '—';

interface Row {
  /** The line in README.md, 1-based, for messages. */
  line: number;
  /** The metric's name, or a prefix when the row names a family such as `process_*`. */
  name: string;
  wildcard: boolean;
  type: string;
  labels: string[];
  raw: string;
}

/** Splits a Markdown table line into its cells, leaving `|` inside back-ticks alone. */
function cells(line: string): string[] {
  const out: string[] = [];
  let cell = '';
  let code = false;
  for (const ch of line.trim().replace(/^\|/, '').replace(/\|$/, '')) {
    if (ch === '`') code = !code;
    if (ch === '|' && !code) {
      out.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  out.push(cell.trim());
  return out;
}

/**
 * The label names of a labels cell: the back-ticked tokens outside parentheses. Each must open one
 * comma-separated item of the cell (`route` (…), `status_class` (…)), so a back-ticked word in the
 * prose that follows a list is not taken for a label; one anywhere else, or one that is not a label
 * name, is ambiguous and throws rather than being guessed at. `—` (no labels) must be followed by
 * nothing but parentheses and prose.
 */
function labelNames(cell: string): string[] {
  const names: string[] = [];
  const noLabels = cell.startsWith(NO_LABELS);
  let depth = 0;
  let itemStart = true; // only whitespace since the start of the cell or the last top-level comma
  for (let i = 0; i < cell.length; i++) {
    const ch = cell[i]!;
    if (ch === '`') {
      const end = cell.indexOf('`', i + 1);
      if (end < 0) throw new Error(`unclosed back-tick in labels cell: ${cell}`);
      const token = cell.slice(i + 1, end);
      i = end;
      if (depth > 0) continue; // a value, an example, a code: not a label name
      if (noLabels) throw new Error(`labels cell says ${NO_LABELS} yet names \`${token}\` outside parentheses: ${cell}`);
      if (!itemStart) throw new Error(`\`${token}\` is outside parentheses but does not open a list item; label or prose? ${cell}`);
      if (!LABEL_NAME.test(token)) throw new Error(`\`${token}\` is outside parentheses but is not a label name: ${cell}`);
      names.push(token);
      itemStart = false;
    } else if (ch === '(') {
      depth++;
    } else if (ch === ')') {
      if (depth === 0) throw new Error(`unbalanced ")" in labels cell: ${cell}`);
      depth--;
    } else if (depth === 0) {
      if (ch === ',') itemStart = true;
      else if (!/\s/.test(ch)) itemStart = false;
    }
  }
  if (depth !== 0) throw new Error(`unbalanced "(" in labels cell: ${cell}`);
  if (!noLabels && names.length === 0) throw new Error(`labels cell names no label and is not ${NO_LABELS}: ${cell}`);
  return names;
}

/** The rows of README.md's metrics table. A cell naming several metrics (`process_*`, `nodejs_*`) gives one row each. */
function readmeTable(): Row[] {
  const lines = readFileSync(`${ROOT}README.md`, 'utf8').split('\n');
  const header = lines.findIndex((l) => l.trim() === TABLE_HEADER);
  if (header < 0) throw new Error(`README.md has no line "${TABLE_HEADER}"`);
  if (!/^\|(\s*:?-+:?\s*\|){3}$/.test(lines[header + 1]?.trim() ?? '')) throw new Error('the metrics table has no separator line');
  const rows: Row[] = [];
  for (let i = header + 2; i < lines.length && lines[i]!.trim().startsWith('|'); i++) {
    const raw = lines[i]!;
    const row = cells(raw);
    if (row.length !== 3) throw new Error(`README.md:${i + 1} has ${row.length} cells, not 3: ${raw}`);
    const [metrics, type, labels] = row as [string, string, string];
    const names = [...metrics.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    if (names.length === 0 || metrics.replace(/`[^`]+`/g, '').replace(/[,\s]/g, '') !== '') {
      throw new Error(`README.md:${i + 1}: the metric cell is not a list of back-ticked names: ${metrics}`);
    }
    for (const name of names) {
      const wildcard = name.endsWith('*');
      rows.push({ line: i + 1, name: wildcard ? name.slice(0, -1) : name, wildcard, type, labels: labelNames(labels), raw });
    }
  }
  return rows;
}

interface Family {
  type: string;
  /** Label names of each sample that carries the family's labels (a histogram's `_count`), `le` never among them. */
  samples: string[][];
}

/** `# TYPE` lines and samples of a Prometheus text exposition, by metric family. */
function exposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      if (families.has(type[1]!)) throw new Error(`two # TYPE lines for ${type[1]}`);
      families.set(type[1]!, { type: type[2]!, samples: [] });
    }
  }
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+( \S+)?$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const [, name, labels = ''] = match as unknown as [string, string, string | undefined];
    let family = families.get(name);
    if (!family) {
      // A histogram's (or summary's) _bucket, _sum or _count; only _count is looked at for labels.
      const base = name.replace(/_(bucket|sum|count)$/, '');
      family = families.get(base);
      if (!family) throw new Error(`sample of no # TYPE family: ${line}`);
      if (!name.endsWith('_count')) continue;
    }
    const names = [...labels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)].map((m) => m[1]!);
    family.samples.push(names.filter((n) => n !== 'le').sort());
  }
  return families;
}

describe("README.md's metrics table", () => {
  it('parses: every row has a Prometheus type (or is a prefix of prom-client defaults) and unambiguous label names', () => {
    const rows = readmeTable();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      if (row.wildcard) expect(row.labels, row.raw).toEqual([]);
      else expect(PROMETHEUS_TYPES.has(row.type), `README.md:${row.line} type "${row.type}"`).toBe(true);
    }
    expect(new Set(rows.map((r) => r.name)).size, 'a metric listed twice').toBe(rows.length);
  });

  it('reads label names from the back-ticked tokens outside parentheses', () => {
    expect(labelNames('`route` (the route pattern, such as `/api/v1/x`: one of six), `status_class` (`2xx`, `4xx`), one per attempt')).toEqual([
      'route',
      'status_class',
    ]);
    expect(labelNames('`code` (`none` without errors). The handshake is not an operation here')).toEqual(['code']);
    expect(labelNames('— (hashes sent without their document: `PERSISTED_QUERY_NOT_FOUND`)')).toEqual([]);
    expect(labelNames('—')).toEqual([]);
    expect(() => labelNames('`route`, one per `attempt`')).toThrow(/does not open a list item/);
    expect(() => labelNames('— but `route`')).toThrow(/names `route`/);
    expect(() => labelNames('`Route`')).toThrow(/not a label name/);
    expect(() => labelNames('`route` (unclosed')).toThrow(/unbalanced/);
  });
});

const servers = useServers();

async function metricsText(gateway: TestGateway): Promise<string> {
  const res = await fetch(gateway.url.replace('/graphql', '/metrics'));
  expect(res.status).toBe(200);
  return res.text();
}

describe.skipIf(!!NO_REDIS)(needsRedis("README.md's metrics table against a real gateway's /metrics"), () => {
  it('lists every gateway_ metric with its type and exact label names, each seen with a sample', async () => {
    const rows = readmeTable();
    const redis = await startRedis();
    servers.later(() => redis.stop());
    const upstream = await servers.demo();
    const gateway = await servers.gateway(upstream.url, {
      REDIS_URL: redis.url,
      CACHE_TTL_MS: '60000',
      MAX_UPSTREAM_CALLS: '2',
      // Not what this test is about: a busy machine must not turn a lookup into a timeout.
      REDIS_TIMEOUT_MS: '1000',
    });
    await untilCacheReady(gateway);

    const one = { query: `query One { visitor(id: "${SEED_VISITOR_ID}") { id name } }` };
    // Answered, then answered from the cache: operations, upstream calls, batches, cache misses and hits.
    expect((await gateway.post(one, DEMO_HEADERS)).body.errors).toBeUndefined();
    expect((await gateway.post(one, DEMO_HEADERS)).body.errors).toBeUndefined();
    // An error (and a 4xx upstream).
    const missing = await gateway.post({ query: 'query Missing { visitor(id: "unknownVisitor001") { id } }' }, DEMO_HEADERS);
    expect(missing.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // The persisted-query handshake's first half.
    expect(await persisted(gateway, 'query Unregistered { __typename }', false)).toBe('PERSISTED_QUERY_NOT_FOUND');
    // Three distinct visitors against MAX_UPSTREAM_CALLS=2.
    const overBudget = await gateway.post({ query: 'query Many { visitors(ids: ["a1", "a2", "a3"]) { id } }' }, DEMO_HEADERS);
    expect(overBudget.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_BUDGET_EXCEEDED');

    // A Redis error only follows a failing command: Redis gone, the next lookups fail. Until every
    // listed metric has a sample (bounded), another operation and another scrape.
    await redis.stop();
    const sampled = (text: string) => {
      const families = exposition(text);
      return rows.every((r) => r.wildcard || (families.get(r.name)?.samples.length ?? 0) > 0);
    };
    let text = '';
    for (let i = 0; i < 40; i++) {
      await gateway.post({ query: `query AfterRedis { visitor(id: "${SEED_VISITOR_ID}") { id } }` }, DEMO_HEADERS);
      text = await metricsText(gateway);
      if (sampled(text)) break;
      await sleep(25);
    }

    const families = exposition(text);
    for (const row of rows) {
      const where = `README.md:${row.line} ${row.raw}`;
      if (row.wildcard) {
        // prom-client's defaults: no Prometheus type to check, only that the family exists.
        expect(
          [...families.keys()].some((name) => name.startsWith(row.name)),
          `${where}: no metric starts with ${row.name}`,
        ).toBe(true);
        continue;
      }
      const family = families.get(row.name);
      // (a) the type
      expect(family ? `# TYPE ${row.name} ${family.type}` : `no # TYPE line for ${row.name}`, where).toBe(`# TYPE ${row.name} ${row.type}`);
      // (b) the label names, on every sample (at least one)
      expect(family!.samples.length, `${where}: no sample of ${row.name}`).toBeGreaterThan(0);
      const wanted = [...row.labels].sort();
      for (const labels of family!.samples) expect(labels, `${where}: labels of a ${row.name} sample`).toEqual(wanted);
    }
    // (c) nothing named gateway_ outside the table
    const listed = new Set(rows.filter((r) => !r.wildcard).map((r) => r.name));
    const unlisted = [...families.keys()].filter((name) => name.startsWith('gateway_') && !listed.has(name));
    expect(unlisted, 'gateway_ metrics /metrics serves that README.md does not list').toEqual([]);
  });
});
