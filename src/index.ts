import { setFlagsFromString } from 'node:v8';
// graphql-jit compiles every new document with `new Function`, and V8's compilation cache keeps
// each generated function's code after the gateway's own document cache has let the document go:
// 500 unique 14 KiB documents held about 1 GB until the heap neared its limit. Set before the first
// request; the gateway's own modules are compiled once each, so the cache saves nothing here.
setFlagsFromString('--no-compilation-cache');

import { ConfigError, loadConfig } from './config.js';
import { start } from './start.js';

try {
  const running = await start(loadConfig());
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    // A second signal means "now": the operator gave up waiting for the drain.
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`${signal}: finishing in-flight operations, then exiting\n`);
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `Start-up failed: ${(err as Error).stack ?? err}`}\n`);
  process.exit(1);
}
