/**
 * The ceiling for any Node hop: a bare reverse proxy that does nothing but forward the credentials
 * and stream the answer back. No parsing, no GraphQL, the same kind of pool the gateway uses.
 */
import { createServer } from 'node:http';
import { pipeline } from 'node:stream';
import { Pool } from 'undici';
import { runChild } from '../lib/child.mjs';
import { VISITORS_INFO_PATH } from '../lib/workload.mjs';

runChild(async () => {
  const pool = new Pool(process.env.UPSTREAM_URL, {
    connections: 64, // the gateway's default UPSTREAM_CONNECTIONS, so neither has more sockets
    pipelining: 1,
    keepAliveTimeout: 30_000,
  });

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (req.method !== 'GET' || !req.url?.startsWith(`${VISITORS_INFO_PATH}?`)) {
      res.writeHead(404).end();
      return;
    }
    pool
      .request({
        method: 'GET',
        path: req.url,
        headers: {
          accept: 'application/json',
          'x-auth-token': req.headers['x-auth-token'] ?? '',
          'x-user-id': req.headers['x-user-id'] ?? '',
        },
      })
      .then(
        ({ statusCode, headers, body }) => {
          const out = { 'content-type': headers['content-type'] ?? 'application/json' };
          if (headers['content-length'] !== undefined) out['content-length'] = headers['content-length'];
          res.writeHead(statusCode, out);
          pipeline(body, res, () => {});
        },
        () => {
          if (!res.headersSent) res.writeHead(502);
          res.end();
        },
      );
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { info: { origin: `http://127.0.0.1:${server.address().port}`, path: VISITORS_INFO_PATH } };
});
