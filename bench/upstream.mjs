/**
 * The demo upstream in a process of its own, serving a generated pool of visitors. `calls` reports
 * how many requests it has answered, which is how the runner counts upstream calls per operation
 * without touching the gateway.
 */
import { startDemoUpstream } from '../dist/demo/upstream.js';
import { runChild } from './lib/child.mjs';
import { poolVisitors } from './lib/workload.mjs';

runChild(async () => {
  const demo = await startDemoUpstream({
    host: '127.0.0.1',
    port: 0,
    latencyMs: Number(process.env.BENCH_LATENCY_MS ?? 0),
    visitors: poolVisitors(Number(process.env.BENCH_POOL_SIZE ?? 10_000)),
  });
  return {
    info: { origin: demo.url },
    answer: (cmd) => {
      if (cmd === 'calls') return demo.calls;
      throw new Error(`unknown command ${cmd}`);
    },
  };
});
