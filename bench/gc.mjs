/**
 * What the young generation costs one contender under the single-visitor load: scavenges, their
 * mean pause, and the bytes each promotes to the old generation, from V8's `--trace-gc-nvp`. A
 * server whose per-request objects die young promotes a few tens of KB per scavenge; hundreds of KB
 * mean something keeps requests reachable past a scavenge, and every scavenge then takes longer.
 *   npm run build && node bench/gc.mjs [contender] [seconds]
 * The contender is a name in bench/contenders (default gateway) or `gateway@<dir>` for a gateway
 * build kept in <dir>, relative to the repository root.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnChild, killAllChildren } from './lib/children.mjs';
import { singleLoad } from './lib/singleLoad.mjs';

const [script, dist] = (process.argv[2] ?? 'gateway').split('@');
const seconds = Number(process.argv[3] ?? 8);
const upstream = await spawnChild('upstream', 'upstream.mjs');
const proc = spawn(
  process.execPath,
  ['--trace-gc-nvp', fileURLToPath(new URL(`./contenders/${dist ? 'gateway-at' : script}.mjs`, import.meta.url))],
  {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production', UPSTREAM_URL: upstream.info.origin, ...(dist ? { GATEWAY_DIST: dist } : {}) },
  },
);
process.on('exit', () => {
  proc.kill('SIGKILL');
  killAllChildren();
});
const info = await new Promise((resolve, reject) => {
  proc.on('message', (m) => m?.ready && resolve(m.info));
  proc.once('exit', (code) => reject(new Error(`${process.argv[2] ?? 'gateway'} exited (${code}) before it was ready`)));
});
let lines = [];
let partial = '';
proc.stdout.on('data', (chunk) => {
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
console.log(`${process.argv[2] ?? 'gateway'}: ${result.requests.total} requests in ${seconds} s`);
console.log(`  scavenges ${scavenges.length}, mean pause ${mean(scavenges.map((e) => Number(e.pause))).toFixed(2)} ms, ` +
  `mean promoted ${(mean(scavenges.map((e) => Number(e.promoted))) / 1024).toFixed(0)} KB`);
console.log(`  mark-compacts ${majors.length}`);
process.exit(0);
