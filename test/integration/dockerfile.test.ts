import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../../src/demo/upstream.js';
import { ROOT } from '../helpers/process.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * No container engine runs here, so the image is checked where it can be: its structure, and its
 * HEALTHCHECK command run for real against a live gateway and a dead port.
 */
const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
const run = promisify(execFile);

describe('Dockerfile', () => {
  let upstream: DemoUpstream;
  let gateway: TestGateway;
  beforeAll(async () => {
    upstream = await startDemoUpstream();
    gateway = await startTestGateway(upstream.url);
  });
  afterAll(async () => {
    await gateway.stop();
    await upstream.stop();
  });

  it('is multi-stage, runs as the non-root node user, in production mode, starting dist/index.js', () => {
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENV NODE_ENV=production/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/index.js"\]$/m);
  });

  it('builds on a Node release line still supported upstream (22 or 24), and never lets `prepare` run half-copied', () => {
    const bases = [...dockerfile.matchAll(/^FROM node:(\d+)[^\s]*/gm)].map((m) => Number(m[1]));
    expect(bases.length).toBeGreaterThanOrEqual(2);
    for (const major of bases) expect([22, 24]).toContain(major);
    for (const install of dockerfile.match(/npm ci[^\n]*/g)!) expect(install).toContain('--ignore-scripts');
    expect(dockerfile).toMatch(/npm run build/);
  });

  it('its HEALTHCHECK passes against a live gateway and fails against a dead port', async () => {
    const cmd = /HEALTHCHECK[\s\S]*?CMD (\[.*\])/.exec(dockerfile)![1]!;
    const [bin, ...args] = JSON.parse(cmd) as string[];
    expect(bin).toBe('node');
    const port = new URL(gateway.url).port;
    await expect(run(process.execPath, args, { env: { PORT: port } })).resolves.toBeDefined();
    await expect(run(process.execPath, args, { env: { PORT: '1' } })).rejects.toMatchObject({ code: 1 });
  });
});
