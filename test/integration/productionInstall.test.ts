/**
 * `npm start` from an installed production build, as the Dockerfile makes one: the build output
 * and the schema beside `npm ci --omit=dev --ignore-scripts`, no compiler and no dev dependency.
 * Starting never builds: building is `npm run build` (and `prepare`, on a clone's `npm ci`).
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { ensureBuilt, ROOT, waitFor } from '../helpers/process.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('a production install', () => {
  let dir: string;
  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lvg-prod-'));
    for (const entry of ['package.json', 'package-lock.json', 'dist', 'schema']) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
    await run(npm, ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, timeout: 120_000 });
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds no dev dependency and no compiler', () => {
    for (const dev of ['typescript', 'vitest', '@graphql-codegen/cli', '@apollo/client']) expect(existsSync(join(dir, 'node_modules', dev))).toBe(false);
  });

  it('npm start serves the demo without building anything', async () => {
    let stdout = '';
    const child = spawn(npm, ['start'], { cwd: dir, env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', NODE_ENV: 'production' } });
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => stdout, /-d '.*'\n/, 20_000);
      expect(stdout).not.toContain('tsc');
      const url = /GraphQL at (http:\/\/\S+\/graphql)/.exec(stdout)![1]!;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId },
        body: JSON.stringify({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { name chats { totalCount } } }` }),
      });
      expect(await res.json()).toEqual({ data: { visitor: { name: 'Livechat Visitor', chats: { totalCount: 2 } } } });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, 60_000);
});
