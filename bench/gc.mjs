/**
 * What the young generation costs one contender under the single-visitor load: scavenges, their
 * mean pause, and the bytes each promotes to the old generation, from V8's `--trace-gc-nvp`. A
 * server whose per-request objects die young promotes a few tens of KB per scavenge; hundreds of KB
 * mean something keeps requests reachable past a scavenge, and every scavenge then takes longer.
 *   npm run build && node bench/gc.mjs [contender] [seconds]
 * The contender is a name in bench/contenders (default gateway) or `gateway@<dir>` for a gateway
 * build kept in <dir>, relative to the repository root.
 */
import { contender, spawnChild, killAllChildren } from './lib/children.mjs';
import { singleLoad } from './lib/singleLoad.mjs';

const name = process.argv[2] ?? 'gateway';
const seconds = Number(process.argv[3] ?? 8);
process.on('exit', killAllChildren);
const upstream = await spawnChild('upstream', 'upstream.mjs');
const { script, env } = contender(name, upstream.info.origin);
const child = await spawnChild(name, script, env, { nodeArgs: ['--trace-gc-nvp'], pipeStdout: true });
const info = child.info;
let lines = [];
let partial = '';
child.stdout.on('data', (chunk) => {
  const text = partial + chunk;
  const parts = text.split('\n');
  partial = parts.pop();
  lines.push(...parts);
});

const load = (duration) => singleLoad(info, { duration });
await load(2); // warm-up: JIT, pools, heap growth
lines = [];
const result = await load(seconds);

const events = lines.map((line) => Object.fromEntries([...line.matchAll(/(\w[\w.]*)=(\S+)/g)].map((m) => [m[1], m[2]])));
const scavenges = events.filter((e) => e.gc === 's');
const majors = events.filter((e) => e.gc === 'ms' || e.gc === 'mc');
const mean = (xs) => xs.reduce((s, x) => s + x, 0) / (xs.length || 1);
console.log(`${name}: ${result.requests.total} requests in ${seconds} s`);
console.log(
  `  scavenges ${scavenges.length}, mean pause ${mean(scavenges.map((e) => Number(e.pause))).toFixed(2)} ms, ` +
    `mean promoted ${(mean(scavenges.map((e) => Number(e.promoted))) / 1024).toFixed(0)} KB`,
);
console.log(`  mark-compacts ${majors.length}`);
process.exit(0);
