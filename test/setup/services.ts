/**
 * Vitest's global setup: makes sure the real services some tests need exist, as the README's one
 * test command promises on a fresh machine: a redis-server for the shared-cache tests, and a
 * Chromium for the test that opens the local explorer in a browser. On PATH already: nothing to
 * do. Missing and running as root: Debian's packages are installed (once; the machine's own package
 * manager, as .ci/run does it). Still missing: those tests report as skipped, saying how to enable
 * them, except with CI=true, where a missing service fails the run rather than passing it untested.
 */
import { execFileSync, spawnSync } from 'node:child_process';

interface Service {
  /** The command that must be on PATH. */
  command: string;
  /** Debian's package that brings it. */
  pkg: string;
  /** The environment variable read by test/helpers/process.ts in every worker when it is missing. */
  missingVariable: string;
  what: string;
}

const SERVICES: Service[] = [
  { command: 'redis-server', pkg: 'redis-server', missingVariable: 'LVG_TEST_NO_REDIS', what: 'The shared-cache tests need a real Redis' },
  { command: 'chromium', pkg: 'chromium', missingVariable: 'LVG_TEST_NO_CHROMIUM', what: 'The local explorer test needs a real browser' },
];

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Installs the packages in one apt-get run; the reason it could not, if it could not. */
function install(packages: string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root, so it cannot be installed here';
  if (!onPath('apt-get')) return 'there is no apt-get to install it with';
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 300_000 });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'ignore', env, timeout: 600_000 });
  } catch (err) {
    return `apt-get could not install it (${(err as Error).message.split('\n')[0]})`;
  }
  return undefined;
}

export default function setup(): void {
  const missing = SERVICES.filter((s) => !onPath(s.command));
  if (missing.length === 0) return;
  const failed = install(missing.map((s) => s.pkg));
  for (const service of missing) {
    if (onPath(service.command)) continue;
    const why = failed ?? `apt-get ran, yet ${service.command} is not on PATH`;
    const message = `no ${service.command}: ${why}; install Debian's ${service.pkg} (apt-get install ${service.pkg}), or run the tests as root so that they install it`;
    if (process.env.CI === 'true') throw new Error(`${service.what} and CI=true allows no skip: ${message}`);
    process.stderr.write(`\n${service.what}; those tests will be skipped: ${message}\n\n`);
    process.env[service.missingVariable] = message;
  }
}
