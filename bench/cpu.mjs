/**
 * CPU time per request, each contender in its own process at the same fixed request rate: a steadier
 * figure than req/s on a shared 2-core machine, where the load generator and the upstream compete
 * with the server under test. Rounds alternate between contenders so that drift favours nobody.
 *   npm run build && node bench/cpu.mjs [contenders] [req/s] [workloads]
 * Contenders are names in bench/contenders (default gateway,mercurius,proxy); `gateway@<dir>` is a
 * gateway build kept in <dir> (relative to the repository root), for a before/after comparison.
 * Workloads are the clients' requests of lib/workload.mjs (default apollo-client,urql,apq,bare);
 * the proxy always answers its REST GET, once.
 * Linux only: CPU time is read from /proc/<pid>/stat.
 */
import { readFileSync } from 'node:fs';
import { contender, spawnChild, killAllChildren } from './lib/children.mjs';
import { singleLoad, WORKLOADS } from './lib/singleLoad.mjs';

const names = (process.argv[2] ?? 'gateway,mercurius,proxy').split(',');
const rate = Number(process.argv[3] ?? 3000);
const workloads = (process.argv[4] ?? 'apollo-client,urql,apq,bare').split(',');
for (const w of workloads) if (!WORKLOADS[w]) throw new Error(`no workload ${w}; one of ${Object.keys(WORKLOADS).join(', ')}`);
const ROUNDS = 3;
const ROUND_SEC = 6;
process.on('exit', killAllChildren);

/** utime + stime of a process, in µs (the kernel counts in clock ticks of 10 ms). */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

const upstream = await spawnChild('upstream', 'upstream.mjs');
const contenders = [];
for (const name of names) {
  const { script, env } = contender(name, upstream.info.origin);
  contenders.push({ name, rest: name === 'proxy', child: await spawnChild(name, script, env) });
}

// Each measured pair: a contender under one workload (the proxy under its REST GET only).
const pairs = contenders.flatMap((c) => (c.rest ? [{ ...c, workload: 'rest' }] : workloads.map((workload) => ({ ...c, workload }))));
const key = (p) => (p.rest ? p.name : `${p.name} · ${p.workload}`);
const load = ({ child, rest, workload }, duration) => singleLoad(child.info, { duration, overallRate: rate, rest, workload: rest ? undefined : workload });

for (const p of pairs) await load(p, 2);
const perRequest = new Map(pairs.map((p) => [key(p), []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const p of round % 2 ? [...pairs].reverse() : pairs) {
    const before = cpuMicros(p.child.pid);
    const result = await load(p, ROUND_SEC);
    if (result.non2xx || result.errors) throw new Error(`${key(p)}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    perRequest.get(key(p)).push((cpuMicros(p.child.pid) - before) / result.requests.total);
  }
}
console.log(`CPU µs per request at ${rate} req/s, ${ROUNDS} rounds × ${ROUND_SEC} s (median of rounds)`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, xs] of perRequest) {
  console.log(`${name.padEnd(36)} ${median(xs).toFixed(1).padStart(6)}   rounds: ${xs.map((x) => x.toFixed(1)).join(' ')}`);
}
// The ratios the targets name, where both sides were measured.
for (const w of workloads) {
  const g = perRequest.get(`gateway · ${w}`);
  const m = perRequest.get(`mercurius · ${w}`);
  if (g && m) console.log(`gateway ÷ mercurius CPU, ${w}: ${(median(g) / median(m)).toFixed(2)}`);
}
const ac = perRequest.get('gateway · apollo-client');
const bare = perRequest.get('gateway · bare');
if (ac && bare) console.log(`gateway, Apollo Client's POST ÷ bare body: ${(median(ac) / median(bare)).toFixed(2)}`);
killAllChildren();
process.exit(0);
