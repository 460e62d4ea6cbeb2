/**
 * What a Node user expects to find beside the code: `.env.example` naming every variable with its
 * default, and `npm run dev` restarting the gateway when a compiled file changes.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';
import { ensureBuilt, ROOT, waitFor } from '../helpers/process.js';

describe('.env.example', () => {
  const text = readFileSync(join(ROOT, '.env.example'), 'utf8');
  /** `VAR=value` lines, set or commented out (`# VAR=value`), with any trailing comment dropped. */
  const entries = [...text.matchAll(/^(#\s*)?([A-Z][A-Z0-9_]+)=(\S*)/gm)].map(([, commented, name, value]) => ({
    name: name!,
    value: value!,
    set: !commented,
  }));

  it('names every variable the gateway reads', () => {
    const named = new Set(entries.map((e) => e.name));
    for (const variable of CONFIG_VARIABLES) expect(named, variable).toContain(variable);
  });

  it('every value it sets is the default: loading it changes nothing', () => {
    const defaults = loadConfig({});
    const set = entries.filter((e) => e.set);
    expect(set.length).toBeGreaterThan(30);
    for (const { name, value } of set) expect(loadConfig({ [name]: value }), `${name}=${value}`).toEqual(defaults);
    // All of them at once, as a copied .env would be.
    expect(loadConfig(Object.fromEntries(set.map((e) => [e.name, e.value])))).toEqual(defaults);
  });

  it('every value it leaves commented out is accepted as written', () => {
    for (const { name, value } of entries.filter((e) => !e.set && !e.name.startsWith('OTEL_'))) {
      const env = { [name]: value, ...(name === 'DEMO_RATE_LIMIT' ? {} : { ROCKETCHAT_URL: name === 'ROCKETCHAT_URL' ? value : undefined }) };
      if (name === 'PERSISTED_DOCUMENTS_ONLY') Object.assign(env, { PERSISTED_DOCUMENTS: './manifest.json' });
      expect(() => loadConfig(env), `${name}=${value}`).not.toThrow();
    }
  });
});

describe('.env.example as the gateway loads it', () => {
  it('`node --env-file=.env.example dist/index.js` (its own header says so) starts the gateway', async () => {
    ensureBuilt();
    let stdout = '';
    // The process's own variables win over the file's (Node's rule), so the port and host are the test's.
    const child = spawn(process.execPath, ['--env-file=.env.example', join(ROOT, 'dist/index.js')], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' },
    });
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => stdout, /GraphQL at http:\/\/\S+\/graphql/, 20_000);
      const url = /GraphQL at (http:\/\/\S+\/graphql)/.exec(stdout)![1]!;
      expect((await fetch(url.replace('/graphql', '/healthz'))).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 30_000);
});

describe('npm run dev', () => {
  it('compiles, starts the gateway, and restarts it when a compiled file changes', async () => {
    const outDir = `.dev-test-${process.pid}`;
    let stdout = '';
    const child = spawn(process.execPath, [join(ROOT, 'scripts/dev.mjs')], {
      cwd: ROOT,
      env: { ...process.env, DEV_OUT_DIR: outDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' },
    });
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => stdout, /GraphQL at http:\/\/\S+\/graphql/, 60_000);
      const first = /GraphQL at (http:\/\/\S+\/graphql)/.exec(stdout)![1]!;
      const started = stdout.length;
      const now = new Date();
      utimesSync(join(ROOT, outDir, 'index.js'), now, now);
      await waitFor(() => stdout.slice(started), /GraphQL at http:\/\/\S+\/graphql/, 20_000);
      const second = /GraphQL at (http:\/\/\S+\/graphql)/.exec(stdout.slice(started))![1]!;
      // The restarted gateway answers (port 0: a new port each start).
      expect((await fetch(second.replace('/graphql', '/healthz'))).status).toBe(200);
      expect(second).not.toBe(first);
    } finally {
      child.kill('SIGTERM');
      await exited;
      rmSync(join(ROOT, outDir), { recursive: true, force: true });
    }
  }, 90_000);
});
