/**
 * Where the gateway's time goes: the demo upstream and the gateway in their own processes, the
 * gateway under `--cpu-prof`, autocannon on the single-visitor query for a few seconds. Prints
 * req/s and the heaviest functions by self time; the .cpuprofile opens in Chrome DevTools.
 *   npm run build && node bench/profile.mjs [seconds]
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnChild, killAllChildren } from './lib/children.mjs';
import { singleLoad } from './lib/singleLoad.mjs';

const seconds = Number(process.argv[2] ?? 8);
const dir = fileURLToPath(new URL('./results/profile/', import.meta.url));
mkdirSync(dir, { recursive: true });
process.on('exit', killAllChildren);

const upstream = await spawnChild('upstream', 'upstream.mjs');
const gateway = spawn(
  process.execPath,
  ['--cpu-prof', `--cpu-prof-dir=${dir}`, fileURLToPath(new URL(`./contenders/${process.env.CONTENDER ?? 'gateway'}.mjs`, import.meta.url))],
  {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production', UPSTREAM_URL: upstream.info.origin },
  },
);
const info = await new Promise((resolve) => gateway.on('message', (m) => m?.ready && resolve(m.info)));
const result = await singleLoad(info, { duration: seconds });
console.log(`req/s ${result.requests.average}  p99 ${result.latency.p99} ms  errors ${result.errors} non2xx ${result.non2xx}`);
gateway.disconnect(); // the child exits on disconnect, which writes the profile
await new Promise((r) => gateway.once('exit', r));
killAllChildren();

const file = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .sort()
  .pop();
const profile = JSON.parse(readFileSync(dir + file, 'utf8'));
const self = new Map();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const counts = new Map();
for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
let total = 0;
for (const [id, c] of counts) {
  const n = byId.get(id);
  const f = n.callFrame;
  const key = `${f.functionName || '(anon)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/main\//, '')}:${f.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + c);
  total += c;
}
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${((100 * c) / total).toFixed(1).padStart(5)}%  ${k}`);
console.log(`profile: ${dir}${file}`);
