/**
 * Vitest's global setup: makes sure a real redis-server exists for the shared-cache tests, as the
 * README's one test command promises on a fresh machine. On PATH already: nothing to do. Missing
 * and running as root: Debian's package is installed (once; the machine's own package manager, as
 * .ci/run does it). Still missing: the Redis tests report as skipped, saying how to enable them,
 * except with CI=true, where a missing Redis fails the run rather than passing it untested.
 */
import { execFileSync, spawnSync } from 'node:child_process';

const HOW = "install Debian's redis-server (apt-get install redis-server), or run the tests as root so that they install it";

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function install(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root, so it cannot be installed here';
  if (!onPath('apt-get')) return 'there is no apt-get to install it with';
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 300_000 });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'], { stdio: 'ignore', env, timeout: 300_000 });
  } catch (err) {
    return `apt-get could not install it (${(err as Error).message.split('\n')[0]})`;
  }
  return onPath('redis-server') ? undefined : 'apt-get ran, yet redis-server is not on PATH';
}

export default function setup(): void {
  if (onPath('redis-server')) return;
  const why = install();
  if (!why) return;
  const message = `no redis-server: ${why}; ${HOW}`;
  if (process.env.CI === 'true') throw new Error(`The shared-cache tests need a real Redis and CI=true allows no skip: ${message}`);
  process.stderr.write(`\nRedis tests will be skipped: ${message}\n\n`);
  // Read by test/helpers/process.ts in every test worker, which inherit this environment.
  process.env.LVG_TEST_NO_REDIS = message;
}
