/**
 * Before/after for one change, in one run: build A into a directory, make the change, build B, then
 *   cp -r dist .bench-a   # before the change
 *   npm run build && node bench/ab.mjs .bench-a
 * Both gateways serve the single-visitor query against the same upstream in alternating rounds, so
 * machine drift cancels; an A/A run of this script differs by about 2 %.
 */
import { contender, spawnChild, killAllChildren } from './lib/children.mjs';
import { singleLoad } from './lib/singleLoad.mjs';

const before = process.argv[2];
if (!before) {
  console.error('usage: node bench/ab.mjs <directory holding the "before" build, relative to the repository root>');
  process.exit(2);
}
process.on('exit', killAllChildren);
const upstream = await spawnChild('upstream', 'upstream.mjs');
const older = contender(`gateway@${before}`, upstream.info.origin);
const after = contender('gateway', upstream.info.origin);
const a = await spawnChild('A', older.script, older.env);
const b = await spawnChild('B', after.script, after.env);
const load = (child, duration) => singleLoad(child.info, { duration });
await load(a, 2);
await load(b, 2);
const rps = { A: [], B: [] };
for (let round = 0; round < 4; round++) {
  for (const [label, child] of round % 2
    ? [
        ['B', b],
        ['A', a],
      ]
    : [
        ['A', a],
        ['B', b],
      ]) {
    rps[label].push(Math.round((await load(child, 5)).requests.average));
  }
}
const mean = (xs) => Math.round(xs.reduce((s, x) => s + x, 0) / xs.length);
console.log(`A (${before}) req/s ${rps.A.join(' ')} mean ${mean(rps.A)}`);
console.log(`B (dist) req/s ${rps.B.join(' ')} mean ${mean(rps.B)}`);
console.log(`B / A = ${(mean(rps.B) / mean(rps.A)).toFixed(3)}`);
killAllChildren();
process.exit(0);
