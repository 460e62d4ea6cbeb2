/**
 * An OTLP/HTTP receiver that keeps nothing: the traced gateway's exporter sends its batches here,
 * in a process of its own so that receiving them costs neither the gateway nor the load generator.
 * `received` reports the requests and bytes taken, which proves spans were exported.
 */
import { createServer } from 'node:http';
import { runChild } from './lib/child.mjs';

runChild(async () => {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk) => (bytes += chunk.length));
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' }).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    info: { origin: `http://127.0.0.1:${server.address().port}` },
    answer: (cmd) => {
      if (cmd === 'received') return { requests, bytes };
      throw new Error(`unknown command ${cmd}`);
    },
  };
});
