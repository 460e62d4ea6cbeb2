/** The runner's side of the process protocol (see child.mjs): spawn, wait for ready, ask, stop. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
const live = new Set();

/**
 * Kills every child still running. Synchronous so that it also works from process.on('exit').
 * SIGKILL because by the time this runs nobody waits for a graceful shutdown any more.
 */
export function killAllChildren() {
  for (const proc of live) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
  live.clear();
}

/**
 * A contender by name: `gateway`, `proxy`, … in bench/contenders, or `gateway@<dir>` for a gateway
 * build kept in <dir> (relative to the repository root). Returns its script and the env it needs.
 */
export function contender(name, upstreamOrigin) {
  const [script, dist] = name.split('@');
  return {
    script: `contenders/${dist ? 'gateway-at' : script}.mjs`,
    env: { UPSTREAM_URL: upstreamOrigin, ...(dist ? { GATEWAY_DIST: dist } : {}) },
  };
}

/**
 * Starts `bench/<script>` with `node --expose-gc` (so a memory reading can collect first) plus any
 * `nodeArgs`, and resolves once it reports ready, with `info` (its origin and path) from the child.
 * With `pipeStdout` the child's stdout is `child.stdout` instead of this process's.
 */
export function spawnChild(label, script, env = {}, { nodeArgs = [], pipeStdout = false, readyTimeoutMs = 20_000 } = {}) {
  const proc = spawn(process.execPath, ['--expose-gc', ...nodeArgs, BENCH_DIR + script], {
    stdio: ['ignore', pipeStdout ? 'pipe' : 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production', ...env },
  });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));

  let nextId = 0;
  const pending = new Map();
  proc.on('message', (msg) => {
    const waiter = msg && pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(`${label}: ${msg.error}`));
    else waiter.resolve(msg.result);
  });
  proc.once('exit', (code, signal) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${label} exited (${signal ?? code})`));
    pending.clear();
  });

  const child = {
    label,
    pid: proc.pid,
    stdout: proc.stdout,
    info: undefined,
    /** One question over IPC; bounded so a wedged child fails the bench instead of hanging it. */
    ask(cmd, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        if (!proc.connected) return reject(new Error(`${label} is not running`));
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${label} did not answer "${cmd}" within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        proc.send({ id, cmd });
      });
    },
    /** SIGTERM, then SIGKILL if it is still there after a grace period. */
    async stop(graceMs = 3_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${label} (${script}) did not report ready within ${readyTimeoutMs} ms`));
    }, readyTimeoutMs);
    const onExit = (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${label} (${script}) exited before it was ready (${signal ?? `code ${code}`})`));
    };
    proc.once('exit', onExit);
    proc.on('message', function onReady(msg) {
      if (!msg?.ready) return;
      proc.off('message', onReady);
      proc.off('exit', onExit);
      clearTimeout(timer);
      child.info = msg.info;
      resolve(child);
    });
  });
}
