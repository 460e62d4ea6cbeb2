/** This project, built, in production mode: exactly what `npm start` would run against a real server. */
import { loadConfig } from '../../dist/config.js';
import { createGateway } from '../../dist/server.js';
import { runChild } from '../lib/child.mjs';

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
