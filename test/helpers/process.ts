import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The real entry point, as `npm start` runs it (npm test builds dist/ first). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ENTRY = `${ROOT}dist/index.js`;

export function ensureBuilt(): void {
  if (!existsSync(ENTRY)) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
}

export interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
}

/** Starts `node dist/index.js` with exactly this environment (plus PATH). */
export function spawnGateway(env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [ENTRY], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits until `text()` matches, or fails after `timeoutMs` with what was seen. */
export async function waitFor(text: () => string, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(text());
    if (match) return match;
    if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}; saw:\n${text()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Why no Redis test can run here, when none can (test/setup/services.ts found no redis-server and
 * could not install one); undefined when they can.
 */
export const NO_REDIS: string | undefined = process.env.LVG_TEST_NO_REDIS;

/**
 * Why the browser test cannot run here (test/setup/services.ts found no chromium and could not
 * install one); undefined when it can.
 */
export const NO_CHROMIUM: string | undefined = process.env.LVG_TEST_NO_CHROMIUM;

/**
 * The name of a Redis test or suite, skipped with `skipIf(!!NO_REDIS)`: when it is skipped, its
 * name in the report says why and how to run it.
 */
export function needsRedis(name: string): string {
  return NO_REDIS ? `${name} [skipped: ${NO_REDIS}]` : name;
}

/**
 * A throwaway redis-server on loopback (Debian's package; test/setup/services.ts installs it). `pid` lets a test
 * pause it (SIGSTOP) as a stuck Redis; stop() resumes it first, so it can handle SIGTERM.
 */
export async function startRedis(): Promise<{ url: string; port: number; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(() => out, /Ready to accept connections/);
  let stopped = false;
  child.once('exit', () => (stopped = true));
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    async stop() {
      if (!stopped) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
      }
      await exited;
    },
  };
}
