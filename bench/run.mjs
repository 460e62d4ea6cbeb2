/**
 * `npm run bench`: the gateway against a bare undici proxy (the ceiling for any Node hop), a
 * documentation-style Apollo Server + RESTDataSource (the baseline) and Fastify + Mercurius, all
 * in one run on this machine. See bench/README.md for what each scenario means.
 *
 * Every server runs in its own process; this one only generates load (autocannon) and keeps score.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import autocannon from 'autocannon';
import { DEMO_CREDENTIALS } from '../dist/demo/visitors.js';
import { killAllChildren, spawnChild } from './lib/children.mjs';
import { ALIASES, ALIAS_DISTINCT_IDS, BATCH_SIZE, clientWorkloads, graphqlBodies, poolIds, restPaths } from './lib/workload.mjs';

const QUICK = process.env.BENCH_QUICK === '1';

/**
 * Sized so the full run stays near five minutes on a 2-core machine; the quick run only proves
 * that every part works. Soak checkpoints are [first, last] operation counts.
 *
 * The batch scenario uses few connections on purpose: each operation fans out to 50 calls, and 5
 * operations × the gateway's 10 calls in flight per operation keep 50 upstream calls in flight, as
 * the proxy's 50 connections do, so its calls/s compare with the proxy's req/s like for like.
 */
const SETTINGS = QUICK
  ? { connections: 50, warmupSec: 0.5, rounds: 2, roundSec: 1.5, aliasesOps: 200, batchSec: 1.5, batchConnections: 5, soak: [1_000, 10_000] }
  : { connections: 50, warmupSec: 2, rounds: 2, roundSec: 7, aliasesOps: 1_500, batchSec: 5, batchConnections: 5, soak: [10_000, 100_000] };
const LATENCIES_MS = [0, 20];
/**
 * The other clients' requests, measured at 0 ms only: at 20 ms the 50 connections cap every
 * contender near 2 500 req/s, which the Apollo Client workload already shows.
 */
const GET_WORKLOADS = ['urql', 'apq'];
const POOL_SIZE = 10_000;
/** `gateway-traced` is the gateway with tracing on at 100 % sampling; it runs the single workload only. */
const CONTENDERS = ['proxy', 'gateway', 'gateway-traced', 'baseline', 'mercurius'];
const GRAPHQL_CONTENDERS = ['gateway', 'baseline', 'mercurius'];
/** DESIGN.md's "Speed" section; printed next to the figures, never enforced here. */
const TARGETS = { gateway_over_proxy_rps: 0.7, gateway_over_baseline_rps: 2.5 };

const RESULTS_DIR = new URL('./results/', import.meta.url);
const RESULTS_FILE = new URL(QUICK ? 'latest-quick.json' : 'latest.json', RESULTS_DIR);

const CREDENTIAL_HEADERS = { 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId };
const GRAPHQL_HEADERS = { ...CREDENTIAL_HEADERS, 'content-type': 'application/json' };

class BenchAbort extends Error {}

const ids = poolIds(POOL_SIZE);
// The headline single workload is Apollo Client 4's exact request (its body and Accept header);
// the bare `{query, variables}` body is measured beside it for the gateway, and urql's default GET
// and Apollo Client's APQ GET for every GraphQL contender. All captured from the libraries.
const clients = await clientWorkloads();
const bodies = { ...graphqlBodies(ids), bare: graphqlBodies(ids).single, single: ids.map((id) => Buffer.from(clients['apollo-client'].body(id))) };
/** Query strings of the GET workloads, appended to each contender's GraphQL path. */
const searches = Object.fromEntries(GET_WORKLOADS.map((w) => [w, ids.map((id) => clients[w].search(id))]));
const APOLLO_CLIENT_HEADERS = { ...CREDENTIAL_HEADERS, ...clients['apollo-client'].headers };
const WORKLOAD_HEADERS = {
  single: APOLLO_CLIENT_HEADERS,
  ...Object.fromEntries(GET_WORKLOADS.map((w) => [w, { ...CREDENTIAL_HEADERS, ...clients[w].headers }])),
};
const paths = restPaths(ids);

/** Round-robin over prepared requests; one cursor per workload so every run moves on through the pool. */
function cycler(items) {
  let next = 0;
  return () => {
    const item = items[next];
    next = (next + 1) % items.length;
    return item;
  };
}
const nextBody = { single: cycler(bodies.single), bare: cycler(bodies.bare), aliases: cycler(bodies.aliases), batch: cycler(bodies.batch) };
const nextSearch = Object.fromEntries(GET_WORKLOADS.map((w) => [w, cycler(searches[w])]));
const nextPath = cycler(paths);

/**
 * One autocannon run. `workload` is a key of nextBody for GraphQL servers; the proxy always gets
 * REST GETs. A response only counts as an operation done when it is a 200 whose body carries no
 * GraphQL `errors` (or, from the proxy, Rocket.Chat's `success: true`): a server that sheds load
 * with fast errors must not look fast.
 */
async function load(child, workload, { duration, amount, connections = SETTINGS.connections }) {
  const { origin, path } = child.info;
  const isProxy = child.label === 'proxy';
  let ok = 0;
  let failed = 0;
  let failedSample;
  const onResponse = (status, body) => {
    if (status === 200 && (isProxy ? body.endsWith('"success":true}') : !body.includes('"errors"'))) {
      ok++;
    } else {
      failed++;
      failedSample ??= `HTTP ${status} ${body.slice(0, 300)}`;
    }
  };
  const request = isProxy
    ? { method: 'GET', onResponse, setupRequest: (req) => ((req.path = nextPath()), req) }
    : nextSearch[workload]
      ? { method: 'GET', onResponse, setupRequest: (req) => ((req.path = path + nextSearch[workload]()), req) }
      : { method: 'POST', path, onResponse, setupRequest: (req) => ((req.body = nextBody[workload]()), req) };

  // autocannon only notices the end of a run on its one-second tick, so its own duration overstates
  // short runs; the window from the first request to the last response does not.
  const started = performance.now();
  let lastResponse = started;
  const tracker = autocannon({
    url: origin,
    connections,
    pipelining: 1,
    timeout: 10,
    // autocannon checks for the end of a run only on this tick; the default (1 s) would round every
    // run up to whole seconds and cost the time budget several seconds per scenario.
    sampleInt: 100,
    headers: isProxy ? CREDENTIAL_HEADERS : (WORKLOAD_HEADERS[workload] ?? GRAPHQL_HEADERS),
    requests: [request],
    ...(amount ? { amount } : { duration }),
  });
  tracker.on('response', () => {
    lastResponse = performance.now();
  });
  const result = await tracker;
  const windowSec = (lastResponse - started) / 1000;
  return {
    rps: windowSec > 0 ? ok / windowSec : 0,
    operations: ok + failed,
    ok,
    failed: failed + result.errors,
    failedSample,
    windowSec,
    connections,
    p50: result.latency.p50,
    p99: result.latency.p99,
    connectionErrors: result.errors,
    timeouts: result.timeouts,
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The upstream's call count once it stops moving: calls a server was still making for the previous
 * run's last, abandoned operations must not be charged to the next run. Bounded: at most ~2 s.
 */
async function settledCalls(upstream) {
  let calls = await upstream.ask('calls');
  for (let i = 0; i < 40; i++) {
    await sleep(50);
    const now = await upstream.ask('calls');
    if (now === calls) return calls;
    calls = now;
  }
  return calls;
}

/** A run plus the upstream calls it caused, read from the upstream process before and after. */
async function loadCounted(upstream, child, workload, options) {
  const before = await settledCalls(upstream);
  const run = await load(child, workload, options);
  run.upstreamCalls = (await upstream.ask('calls')) - before;
  run.upstreamCallsPerOp = run.operations ? run.upstreamCalls / run.operations : null;
  return run;
}

async function postGraphql(child, body, headers = GRAPHQL_HEADERS) {
  return graphqlData(child, await fetch(child.info.origin + child.info.path, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) }));
}

async function getGraphql(child, workload) {
  const url = child.info.origin + child.info.path + searches[workload][0];
  return graphqlData(child, await fetch(url, { headers: WORKLOAD_HEADERS[workload], signal: AbortSignal.timeout(10_000) }));
}

/**
 * Sends APQ's registering POST (the query with its hash) once, as Apollo Client does after its
 * first hashed GET is answered PERSISTED_QUERY_NOT_FOUND; every GET of the run then hits.
 */
async function registerPersistedQuery(child) {
  const { register } = clients.apq;
  await postGraphql(child, register.body(ids[0]), { ...CREDENTIAL_HEADERS, ...register.headers });
}

async function graphqlData(child, res) {
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BenchAbort(`${child.label} answered HTTP ${res.status} with a non-JSON body: ${text.slice(0, 200)}`);
  }
  if (res.status !== 200 || json.errors) {
    throw new BenchAbort(`${child.label} answered HTTP ${res.status} with errors: ${JSON.stringify(json.errors ?? json).slice(0, 400)}`);
  }
  return json.data;
}

/** Where two JSON values first differ, for an abort message a person can act on. */
function firstDifference(a, b, path = 'data') {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const found = firstDifference(a[key], b[key], `${path}.${key}`);
      if (found) return found;
    }
  }
  return `${path}: ${JSON.stringify(a)?.slice(0, 120)} vs ${JSON.stringify(b)?.slice(0, 120)}`;
}

/**
 * Figures only compare if every contender does the same job: each GraphQL server must answer the
 * same `data` for every query shape, and the proxy must relay the visitor asked for.
 */
async function assertSameAnswers(children) {
  for (const workload of ['single', 'aliases', 'batch']) {
    const body = bodies[workload][0];
    const headers = workload === 'single' ? APOLLO_CLIENT_HEADERS : GRAPHQL_HEADERS;
    const reference = await postGraphql(children.gateway, body, headers);
    for (const name of GRAPHQL_CONTENDERS.filter((n) => n !== 'gateway')) {
      const data = await postGraphql(children[name], body, headers);
      const diff = firstDifference(reference, data);
      if (diff) throw new BenchAbort(`${name} and gateway answer different data for the ${workload} query; first at ${diff}`);
    }
  }
  for (const name of GRAPHQL_CONTENDERS) await registerPersistedQuery(children[name]);
  for (const workload of GET_WORKLOADS) {
    const reference = await postGraphql(children.gateway, bodies.single[0], APOLLO_CLIENT_HEADERS);
    for (const name of GRAPHQL_CONTENDERS) {
      const diff = firstDifference(reference, await getGraphql(children[name], workload));
      if (diff) throw new BenchAbort(`${name} answers ${workload}'s GET with other data than Apollo Client's POST; first at ${diff}`);
    }
  }
  const { origin } = children.proxy.info;
  const res = await fetch(origin + paths[0], { headers: CREDENTIAL_HEADERS, signal: AbortSignal.timeout(10_000) });
  const json = await res.json().catch(() => undefined);
  if (res.status !== 200 || json?.visitor?._id !== ids[0]) {
    throw new BenchAbort(`the proxy answered HTTP ${res.status} without visitor ${ids[0]}`);
  }
}

/** Which gateway was measured: figures from a working tree with uncommitted src/ changes say so. */
function revision() {
  const git = (...args) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return { commit: git('rev-parse', 'HEAD'), uncommittedSourceChanges: git('status', '--porcelain', '--', 'src', 'schema') !== '' };
  } catch {
    return { commit: null, uncommittedSourceChanges: null };
  }
}

const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;

async function benchLatency(latencyMs) {
  const upstream = await spawnChild(`upstream(${latencyMs} ms)`, 'upstream.mjs', {
    BENCH_LATENCY_MS: String(latencyMs),
    BENCH_POOL_SIZE: String(POOL_SIZE),
  });
  const sink = await spawnChild('otlp sink', 'otlpSink.mjs');
  const children = Object.fromEntries(
    await Promise.all(
      CONTENDERS.map(async (name) => [
        name,
        await spawnChild(name, `contenders/${name}.mjs`, { UPSTREAM_URL: upstream.info.origin, OTLP_SINK_URL: sink.info.origin }),
      ]),
    ),
  );
  try {
    await assertSameAnswers(children);
    log(`latency ${latencyMs} ms: all GraphQL contenders answer identical data`);

    const single = {};
    for (const name of CONTENDERS) {
      single[name] = { warmup: await load(children[name], 'single', { duration: SETTINGS.warmupSec }), rounds: [] };
    }
    // The gateway with a bare body, in the same rounds: one path should cost the same for every client.
    const bare = { warmup: await load(children.gateway, 'bare', { duration: SETTINGS.warmupSec }), rounds: [] };
    // Odd rounds run in reverse order, so a machine that slowly speeds up or slows down favours nobody.
    for (let round = 0; round < SETTINGS.rounds; round++) {
      const order = round % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
      for (const name of order) {
        const run = await loadCounted(upstream, children[name], 'single', { duration: SETTINGS.roundSec });
        single[name].rounds.push({ round, ...run });
        log(`latency ${latencyMs} ms, single, round ${round + 1}/${SETTINGS.rounds}: ${name} ${fmt(run.rps, 0)} req/s`);
        if (name === 'gateway') {
          const bareRun = await loadCounted(upstream, children.gateway, 'bare', { duration: SETTINGS.roundSec });
          bare.rounds.push({ round, ...bareRun });
          log(`latency ${latencyMs} ms, single, round ${round + 1}/${SETTINGS.rounds}: gateway, bare body ${fmt(bareRun.rps, 0)} req/s`);
        }
      }
    }
    for (const entry of [...Object.values(single), bare]) summarise(entry);

    // The other clients' requests, every GraphQL contender in alternating rounds (0 ms only).
    const getWorkloads = {};
    for (const workload of latencyMs === 0 ? GET_WORKLOADS : []) {
      const entries = {};
      for (const name of GRAPHQL_CONTENDERS) {
        entries[name] = { warmup: await load(children[name], workload, { duration: SETTINGS.warmupSec }), rounds: [] };
      }
      for (let round = 0; round < SETTINGS.rounds; round++) {
        for (const name of round % 2 === 0 ? GRAPHQL_CONTENDERS : [...GRAPHQL_CONTENDERS].reverse()) {
          const run = await loadCounted(upstream, children[name], workload, { duration: SETTINGS.roundSec });
          entries[name].rounds.push({ round, ...run });
          log(`latency ${latencyMs} ms, ${workload}, round ${round + 1}/${SETTINGS.rounds}: ${name} ${fmt(run.rps, 0)} req/s`);
        }
      }
      for (const entry of Object.values(entries)) summarise(entry);
      getWorkloads[workload] = entries;
    }

    // A fixed number of operations, not a duration: every operation completes, so calls per operation is exact.
    const aliases = {};
    for (const name of GRAPHQL_CONTENDERS) {
      aliases[name] = await loadCounted(upstream, children[name], 'aliases', { amount: SETTINGS.aliasesOps });
      log(`latency ${latencyMs} ms, aliases: ${name} ${fmt(aliases[name].upstreamCallsPerOp, 2)} upstream calls/op`);
    }

    const run = await loadCounted(upstream, children.gateway, 'batch', {
      duration: SETTINGS.batchSec,
      connections: SETTINGS.batchConnections,
    });
    const upstreamCallsPerSec = run.upstreamCalls / run.windowSec;
    const batch = {
      gateway: {
        ...run,
        upstreamCallsPerSec,
        upstreamCallsPerSecOverProxyRps: upstreamCallsPerSec / single.proxy.rps,
      },
    };
    log(`latency ${latencyMs} ms, batch: gateway ${fmt(run.rps, 0)} ops/s, ${fmt(upstreamCallsPerSec, 0)} upstream calls/s`);

    // Proof that the traced gateway exported what it traced (its exporter batches every 5 s at most).
    const exported = await sink.ask('received');
    if (exported.requests === 0) throw new BenchAbort('gateway-traced exported no spans to the OTLP sink');
    log(`latency ${latencyMs} ms: gateway-traced exported ${exported.requests} OTLP requests, ${fmt(exported.bytes / 1e6, 1)} MB`);

    return { single, bare, getWorkloads, aliases, batch, tracesExported: exported };
  } finally {
    await Promise.all([...Object.values(children), upstream, sink].map((c) => c.stop()));
  }
}

/** Means over an entry's rounds, written onto the entry. */
function summarise(entry) {
  const { rounds } = entry;
  const operations = rounds.reduce((s, r) => s + r.operations, 0);
  Object.assign(entry, {
    rps: mean(rounds.map((r) => r.rps)),
    p50: mean(rounds.map((r) => r.p50)),
    p99: mean(rounds.map((r) => r.p99)),
    failed: rounds.reduce((s, r) => s + r.failed, 0),
    failedSample: rounds.find((r) => r.failedSample)?.failedSample,
    upstreamCallsPerOp: rounds.reduce((s, r) => s + r.upstreamCalls, 0) / operations,
  });
}

/** A fresh gateway, so the first reading is after exactly the first checkpoint's operations. */
async function soak() {
  const upstream = await spawnChild('upstream(soak)', 'upstream.mjs', {
    BENCH_LATENCY_MS: '0',
    BENCH_POOL_SIZE: String(POOL_SIZE),
  });
  const gateway = await spawnChild('gateway(soak)', 'contenders/gateway.mjs', { UPSTREAM_URL: upstream.info.origin });
  try {
    const [first, last] = SETTINGS.soak;
    const start = await gateway.ask('memory');
    const firstRun = await load(gateway, 'single', { amount: first });
    const early = await gateway.ask('memory');
    log(`soak: ${first} operations, heapUsed ${mib(early.heapUsed)} MiB`);
    const lastRun = await load(gateway, 'single', { amount: last - first });
    const late = await gateway.ask('memory');
    log(`soak: ${last} operations, heapUsed ${mib(late.heapUsed)} MiB`);
    const pick = (m) => ({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external });
    return {
      operations: last,
      checkpoints: [first, last],
      gcBeforeReading: early.gcExposed,
      atStart: pick(start),
      [`after${first / 1000}k`]: pick(early),
      [`after${last / 1000}k`]: pick(late),
      heap_growth_ratio: late.heapUsed / early.heapUsed,
      rss_growth_ratio: late.rss / early.rss,
      runs: [firstRun, lastRun],
    };
  } finally {
    await Promise.all([gateway.stop(), upstream.stop()]);
  }
}

/** Every measured run that had failed operations, so no figure in the table hides them. */
function collectFailures(results) {
  const found = [];
  const note = (where, run) => {
    if (run.failed > 0) found.push({ where, failed: run.failed, operations: run.operations, sample: run.failedSample });
  };
  for (const latency of LATENCIES_MS) {
    const { single, bare, getWorkloads, aliases, batch } = results.perLatency[latency];
    for (const name of CONTENDERS) single[name].rounds.forEach((r) => note(`${latency} ms single ${name} round ${r.round + 1}`, r));
    bare.rounds.forEach((r) => note(`${latency} ms single gateway (bare body) round ${r.round + 1}`, r));
    for (const [workload, entries] of Object.entries(getWorkloads)) {
      for (const [name, entry] of Object.entries(entries)) entry.rounds.forEach((r) => note(`${latency} ms ${workload} ${name} round ${r.round + 1}`, r));
    }
    for (const name of GRAPHQL_CONTENDERS) note(`${latency} ms aliases ${name}`, aliases[name]);
    note(`${latency} ms batch gateway`, batch.gateway);
  }
  results.soak.runs.forEach((r, i) => note(`soak run ${i + 1}`, r));
  return found;
}

function ratiosFor({ single, bare, getWorkloads }) {
  const { gateway, proxy, baseline, mercurius } = single;
  return {
    gateway_over_proxy_rps: gateway.rps / proxy.rps,
    gateway_over_baseline_rps: gateway.rps / baseline.rps,
    gateway_over_mercurius_rps: gateway.rps / mercurius.rps,
    gateway_p99_over_proxy_p99: gateway.p99 / proxy.p99,
    apollo_client_over_bare_rps: gateway.rps / bare.rps,
    traced_over_untraced_rps: single['gateway-traced'].rps / gateway.rps,
    traced_p99_over_untraced_p99: single['gateway-traced'].p99 / gateway.p99,
    workloads: Object.fromEntries(
      Object.entries(getWorkloads).map(([workload, e]) => [
        workload,
        { gateway_over_baseline_rps: e.gateway.rps / e.baseline.rps, gateway_over_mercurius_rps: e.gateway.rps / e.mercurius.rps },
      ]),
    ),
  };
}

// ---- output -------------------------------------------------------------------------------------

function log(line) {
  process.stderr.write(`  · ${line}\n`);
}

function fmt(x, digits = 1) {
  return x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits);
}

const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);

function table(header, rows) {
  const cells = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function report(results) {
  const out = [];
  const m = results.machine;
  out.push(
    '',
    `Benchmark${QUICK ? ' (BENCH_QUICK: smoke run, figures not comparable)' : ''}: ${m.cpus} × ${m.cpuModel}, ${m.totalMemGiB} GiB, Node ${m.node}, ${m.platform}`,
    `single: ${SETTINGS.connections} connections, ${SETTINGS.warmupSec} s warm-up + ${SETTINGS.rounds} alternating rounds × ${SETTINGS.roundSec} s; pool of ${POOL_SIZE} visitor ids; every field asked`,
  );
  for (const latency of LATENCIES_MS) {
    const { single, bare, aliases, batch } = results.perLatency[latency];
    const r = results.ratios[latency];
    out.push('', `── upstream latency ${latency} ms ──`, '', 'single visitor(id) as Apollo Client 4 sends it / one REST GET');
    out.push(
      table(
        ['contender', 'req/s', 'p50 ms', 'p99 ms', 'calls/op', 'failed', 'gateway ÷ this'],
        CONTENDERS.map((name) => {
          const s = single[name];
          return [
            name,
            fmt(s.rps, 0),
            fmt(s.p50, 1),
            fmt(s.p99, 1),
            fmt(s.upstreamCallsPerOp, 2),
            s.failed,
            name === 'gateway' ? '' : `${fmt(single.gateway.rps / s.rps, 2)}×`,
          ];
        }),
      ),
    );
    const mark = (value, target) => (value >= target ? `meets ≥ ${target}` : `below ${target}`);
    out.push(
      `gateway/proxy ${fmt(r.gateway_over_proxy_rps, 2)} (${mark(r.gateway_over_proxy_rps, TARGETS.gateway_over_proxy_rps)}), ` +
        `gateway/baseline ${fmt(r.gateway_over_baseline_rps, 2)} (${mark(r.gateway_over_baseline_rps, TARGETS.gateway_over_baseline_rps)}), ` +
        `gateway/mercurius ${fmt(r.gateway_over_mercurius_rps, 2)}, gateway p99 / proxy p99 ${fmt(r.gateway_p99_over_proxy_p99, 2)}`,
      `gateway with a bare {query, variables} body: ${fmt(bare.rps, 0)} req/s, p99 ${fmt(bare.p99, 1)} ms; ` +
        `Apollo Client's body ÷ bare ${fmt(single.gateway.rps / bare.rps, 2)} (one path should make this 1.00)`,
      `tracing at 100 % sampling (gateway-traced ÷ gateway): ${fmt(r.traced_over_untraced_rps, 2)} req/s, ` +
        `${fmt(r.traced_p99_over_untraced_p99, 2)} p99; ${results.perLatency[latency].tracesExported.requests} OTLP exports, ` +
        `${fmt(results.perLatency[latency].tracesExported.bytes / 1e6, 1)} MB`,
    );
    for (const [workload, entries] of Object.entries(results.perLatency[latency].getWorkloads)) {
      out.push('', `single visitor(id) as ${clients[workload].label}`);
      out.push(
        table(
          ['contender', 'req/s', 'p50 ms', 'p99 ms', 'calls/op', 'failed', 'gateway ÷ this'],
          GRAPHQL_CONTENDERS.map((name) => {
            const e = entries[name];
            return [
              name,
              fmt(e.rps, 0),
              fmt(e.p50, 1),
              fmt(e.p99, 1),
              fmt(e.upstreamCallsPerOp, 2),
              e.failed,
              name === 'gateway' ? '' : `${fmt(entries.gateway.rps / e.rps, 2)}×`,
            ];
          }),
        ),
      );
    }
    out.push('', `aliases: ${ALIASES} aliases over ${ALIAS_DISTINCT_IDS} distinct ids, ${SETTINGS.aliasesOps} operations`);
    out.push(
      table(
        ['contender', 'ops/s', 'p50 ms', 'p99 ms', 'upstream calls/op', 'failed'],
        GRAPHQL_CONTENDERS.map((name) => {
          const a = aliases[name];
          return [name, fmt(a.rps, 0), fmt(a.p50, 1), fmt(a.p99, 1), fmt(a.upstreamCallsPerOp, 2), a.failed];
        }),
      ),
    );
    const b = batch.gateway;
    out.push('', `batch: visitors(ids) with ${BATCH_SIZE} distinct ids, ${SETTINGS.batchConnections} connections, ${SETTINGS.batchSec} s`);
    out.push(
      table(
        ['contender', 'ops/s', 'p50 ms', 'p99 ms', 'upstream calls/s', '÷ proxy req/s', 'failed'],
        [['gateway', fmt(b.rps, 0), fmt(b.p50, 1), fmt(b.p99, 1), fmt(b.upstreamCallsPerSec, 0), fmt(b.upstreamCallsPerSecOverProxyRps, 2), b.failed]],
      ),
    );
  }
  const s = results.soak;
  const [first, last] = s.checkpoints;
  const early = s[`after${first / 1000}k`];
  const late = s[`after${last / 1000}k`];
  out.push('', `soak: ${last} visitor(id) operations on a fresh gateway, upstream 0 ms, readings after a full GC`);
  out.push(
    table(
      ['reading', 'RSS MiB', 'heapUsed MiB'],
      [
        ['at start', mib(s.atStart.rss), mib(s.atStart.heapUsed)],
        [`after ${first}`, mib(early.rss), mib(early.heapUsed)],
        [`after ${last}`, mib(late.rss), mib(late.heapUsed)],
      ],
    ),
  );
  out.push(`heap growth ${fmt(s.heap_growth_ratio, 3)}×, RSS growth ${fmt(s.rss_growth_ratio, 3)}×`);
  out.push('', `aliases upstream calls per operation (gateway): ${fmt(results.aliases.upstream_calls_per_operation, 2)} (must be ${ALIAS_DISTINCT_IDS})`);
  if (results.failures.length === 0) {
    out.push('failed operations: none (every response a 200 without GraphQL errors)');
  } else {
    out.push(`FAILED OPERATIONS in ${results.failures.length} run(s); req/s and ops/s above count only successful ones:`);
    for (const f of results.failures) out.push(`  ${f.where}: ${f.failed} of ${f.operations}; first: ${f.sample ?? 'connection error or timeout'}`);
  }
  out.push(`wrote ${RESULTS_FILE.pathname} in ${fmt(results.wallSec, 0)} s`, '');
  process.stdout.write(out.join('\n') + '\n');
}

// ---- main ---------------------------------------------------------------------------------------

async function main() {
  const started = performance.now();
  const cpus = os.cpus();
  const results = {
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      node: process.version,
      platform: `${process.platform} ${os.release()} ${process.arch}`,
    },
    when: new Date().toISOString(),
    revision: revision(),
    quick: QUICK,
    settings: { ...SETTINGS, latenciesMs: LATENCIES_MS, poolSize: POOL_SIZE, aliases: ALIASES, aliasDistinctIds: ALIAS_DISTINCT_IDS, batchSize: BATCH_SIZE },
    targets: TARGETS,
    perLatency: {},
    ratios: {},
    aliases: {},
    batch: {},
    soak: {},
  };

  for (const latency of LATENCIES_MS) {
    const measured = await benchLatency(latency);
    results.perLatency[latency] = measured;
    results.ratios[latency] = ratiosFor(measured);
    results.batch[latency] = {
      idsPerOperation: BATCH_SIZE,
      ops_per_sec: measured.batch.gateway.rps,
      upstream_calls_per_sec: measured.batch.gateway.upstreamCallsPerSec,
      upstream_calls_per_sec_over_proxy_rps: measured.batch.gateway.upstreamCallsPerSecOverProxyRps,
      p50: measured.batch.gateway.p50,
      p99: measured.batch.gateway.p99,
    };
  }
  const aliasFigures = LATENCIES_MS.map((l) => results.perLatency[l].aliases.gateway.upstreamCallsPerOp);
  results.aliases = {
    // The worse of the latencies: one operation that calls upstream more than necessary is enough to show.
    upstream_calls_per_operation: Math.max(...aliasFigures),
    expected: ALIAS_DISTINCT_IDS,
    perLatency: Object.fromEntries(
      LATENCIES_MS.map((l) => [l, Object.fromEntries(GRAPHQL_CONTENDERS.map((n) => [n, results.perLatency[l].aliases[n].upstreamCallsPerOp]))]),
    ),
  };
  results.soak = await soak();
  results.failures = collectFailures(results);
  results.wallSec = (performance.now() - started) / 1000;

  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 2) + '\n');
  report(results);
}

// Children must never outlive the bench: they would hold ports and skew the next run's figures.
process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAllChildren();
    process.stderr.write(`\nbench: ${signal}; stopped every child process\n`);
    process.exit(130);
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    killAllChildren();
    process.stderr.write(`\nbench aborted: ${err instanceof BenchAbort ? err.message : (err?.stack ?? err)}\n`);
    process.exit(1);
  },
);
