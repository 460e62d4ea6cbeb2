import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS, SEED_VISITOR_ID } from '../../src/demo/visitors.js';

/** The real entry point, as `npm start` runs it (npm test builds dist/ first). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = `${ROOT}dist/index.js`;

function run(env: Record<string, string>, until: RegExp | null, timeoutMs = 10_000) {
  const child = spawn(process.execPath, [ENTRY], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  return new Promise<{ code: number | null; stdout: string; stderr: string; kill: () => Promise<number | null> }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out; stdout: ${stdout} stderr: ${stderr}`));
    }, timeoutMs);
    const kill = () =>
      new Promise<number | null>((done) => {
        child.once('exit', (code) => done(code));
        child.kill('SIGTERM');
      });
    child.stdout.on('data', () => {
      if (until && until.test(stdout)) {
        clearTimeout(timer);
        resolve({ code: null, stdout, stderr, kill });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, kill: async () => code });
    });
  });
}

describe('start-up', () => {
  beforeAll(() => {
    if (!existsSync(ENTRY)) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
  }, 60_000);

  it.each([
    ['ftp://chat.example.org', 'ROCKETCHAT_URL'],
    ['not a url', 'ROCKETCHAT_URL'],
    ['https://user:pw@chat.example.org', 'ROCKETCHAT_URL'],
  ])('refuses ROCKETCHAT_URL=%j with exit code 1 and a message naming the variable', async (value, name) => {
    const result = await run({ ROCKETCHAT_URL: value, PORT: '0' }, null);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(name);
    expect(result.stdout).not.toContain('GraphQL at');
  });

  it('refuses a bad PORT the same way', async () => {
    const result = await run({ PORT: 'eighty' }, null);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('PORT');
  });

  it('without ROCKETCHAT_URL starts the demo upstream, prints URL, credentials and curl, and serves the seed', async () => {
    const proc = await run({ PORT: '0', HOST: '127.0.0.1' }, /-d '.*'\n/);
    try {
      expect(proc.stdout).toContain(DEMO_CREDENTIALS.authToken);
      expect(proc.stdout).toContain(DEMO_CREDENTIALS.userId);
      expect(proc.stdout).toContain('curl');
      const url = /GraphQL at (http:\/\/\S+\/graphql)/.exec(proc.stdout)![1]!;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId },
        body: JSON.stringify({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { id username } }` }),
      });
      expect(await res.json()).toEqual({ data: { visitor: { id: SEED_VISITOR_ID, username: 'guest-19' } } });
    } finally {
      expect(await proc.kill()).toBe(0);
    }
  });
});
