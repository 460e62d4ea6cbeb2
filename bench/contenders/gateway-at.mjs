/** This project as built in GATEWAY_DIST (default dist/, relative to the repository root), production mode: the bench's gateway, and bench/ab.mjs's "A". */
import { fileURLToPath } from 'node:url';
import { runChild } from '../lib/child.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = new URL(`${process.env.GATEWAY_DIST ?? 'dist'}/`, `file://${root}`);
const { loadConfig } = await import(new URL('config.js', dist).href);
// Builds from before the wiring moved out of server.js (bench/ab.mjs compares against those) keep it there.
const { existsSync } = await import('node:fs');
const wiring = existsSync(new URL('gateway.js', dist)) ? 'gateway.js' : 'server.js';
const { createGateway } = await import(new URL(wiring, dist).href);

runChild(async () => {
  const gateway = await createGateway(
    loadConfig({
      ROCKETCHAT_URL: process.env.UPSTREAM_URL,
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
    }),
  );
  return { info: { origin: `http://127.0.0.1:${gateway.port}`, path: '/graphql' } };
});
