/**
 * CPU time per request, each contender in its own process at the same fixed request rate: a steadier
 * figure than req/s on a shared 2-core machine, where the load generator and the upstream compete
 * with the server under test. Rounds alternate between contenders so that drift favours nobody.
 *   npm run build && node bench/cpu.mjs [contenders] [req/s]
 * Contenders are names in bench/contenders (default gateway,mercurius,proxy); `gateway@<dir>` is a
 * gateway build kept in <dir> (relative to the repository root), for a before/after comparison.
 * Linux only: CPU time is read from /proc/<pid>/stat.
 */
import { readFileSync } from 'node:fs';
import { contender, spawnChild, killAllChildren } from './lib/children.mjs';
import { singleLoad } from './lib/singleLoad.mjs';

const names = (process.argv[2] ?? 'gateway,mercurius,proxy').split(',');
const rate = Number(process.argv[3] ?? 3000);
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

const load = ({ child, rest }, duration) => singleLoad(child.info, { duration, overallRate: rate, rest });

for (const c of contenders) await load(c, 2);
const perRequest = new Map(names.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const c of round % 2 ? [...contenders].reverse() : contenders) {
    const before = cpuMicros(c.child.pid);
    const result = await load(c, ROUND_SEC);
    if (result.non2xx || result.errors) throw new Error(`${c.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    perRequest.get(c.name).push((cpuMicros(c.child.pid) - before) / result.requests.total);
  }
}
console.log(`CPU µs per request at ${rate} req/s, ${ROUNDS} rounds × ${ROUND_SEC} s (median of rounds)`);
for (const [name, xs] of perRequest) {
  const median = [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`${name.padEnd(28)} ${median.toFixed(1).padStart(6)}   rounds: ${xs.map((x) => x.toFixed(1)).join(' ')}`);
}
killAllChildren();
process.exit(0);
