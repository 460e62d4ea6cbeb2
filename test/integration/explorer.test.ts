/**
 * The local explorer (EXPLORER=local) in a real browser with the network closed: headless Chromium
 * (Debian's package, installed by the test setup) opens the gateway's page, every request that
 * would leave loopback is refused and recorded, GraphiQL runs the prefilled query against the demo
 * with the prefilled headers, and the test reads the visitor's name from the page.
 */
import puppeteer, { type Browser } from 'puppeteer-core';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_VISITOR_ID } from '../../src/demo/visitors.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { NO_CHROMIUM } from '../helpers/process.js';
import { useServers } from '../helpers/servers.js';

const servers = useServers();
const named = (name: string) => (NO_CHROMIUM ? `${name} [skipped: ${NO_CHROMIUM}]` : name);

describe.skipIf(!!NO_CHROMIUM)(named('the local explorer in headless Chromium, network closed'), () => {
  let browser: Browser;
  beforeAll(async () => {
    const executablePath = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
    // --no-sandbox: the tests may run as root, where Chromium's sandbox refuses to start.
    browser = await puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('serves GraphiQL from the installed packages, prefilled, and runs the query against the demo', async () => {
    const upstream = await servers.demo();
    const gateway = await servers.gateway(
      upstream.url,
      { EXPLORER: 'local', NODE_ENV: 'development' },
      { sandboxHeaders: { 'X-Auth-Token': DEMO_HEADERS['x-auth-token'], 'X-User-Id': DEMO_HEADERS['x-user-id'] } },
    );
    const origin = new URL(gateway.url).origin;
    const page = await browser.newPage();
    const leftLoopback: string[] = [];
    const failed: string[] = [];
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      const url = request.url();
      if (url.startsWith('data:') || url.startsWith(origin)) return void request.continue();
      leftLoopback.push(url);
      void request.abort('internetdisconnected');
    });
    page.on('response', (response) => {
      if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) failed.push(`${response.status()} ${response.url()}`);
    });

    await page.goto(gateway.url, { waitUntil: 'networkidle0', timeout: 30_000 });
    await page.waitForSelector('.graphiql-execute-button', { timeout: 30_000 });
    // The editors hold the example: the query over the whole graph, the full visitor, the demo headers.
    const editors = await page.$$eval('.graphiql-editor', (nodes) => nodes.map((n) => n.textContent ?? ''));
    expect(editors.join('\n')).toContain('query Visitor($id: ID!)');
    await page.click('.graphiql-execute-button');
    // A string, evaluated in the page: the test's own TypeScript has no DOM types.
    await page.waitForFunction(`document.querySelector('.result-window')?.textContent?.includes('"name"')`, { timeout: 30_000 });
    const result = await page.$eval('.result-window', (node) => node.textContent ?? '');
    expect(result).toContain('Ada Lovelace');
    expect(result).toContain(FULL_VISITOR_ID);
    expect(result).not.toContain('"errors"');

    expect(leftLoopback).toEqual([]);
    expect(failed).toEqual([]);
    expect(upstream.requests.some((r) => r.path.endsWith('/visitors.info'))).toBe(true);
    await page.close();
  }, 90_000);

  it('serves only its own files under /explorer/, and the production page stays as it is', async () => {
    const upstream = await servers.demo();
    const local = await servers.gateway(upstream.url, { EXPLORER: 'local', NODE_ENV: 'development' });
    const base = new URL(local.url).origin;
    const css = await fetch(`${base}/explorer/graphiql.min.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
    for (const path of ['/explorer/../package.json', '/explorer/%2e%2e/package.json', '/explorer/', '/explorer/react.development.js']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
    const sandbox = await servers.gateway(upstream.url, { NODE_ENV: 'development' });
    expect((await fetch(`${new URL(sandbox.url).origin}/explorer/graphiql.min.js`)).status).toBe(404);
    const page = await (await fetch(sandbox.url, { headers: { accept: 'text/html' } })).text();
    expect(page).toContain('apollographql.com');
    const production = await servers.gateway(upstream.url, { NODE_ENV: 'production' });
    const productionPage = await (await fetch(production.url, { headers: { accept: 'text/html' } })).text();
    expect(productionPage).not.toContain('graphiql');
    expect(productionPage).not.toContain('/explorer/');
  });
});
