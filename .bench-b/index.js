import { ConfigError, loadConfig } from './config.js';
import { start } from './start.js';
try {
    const running = await start(loadConfig());
    let stopping = false;
    const shutdown = (signal) => {
        // A second signal means "now": the operator gave up waiting for the drain.
        if (stopping)
            process.exit(1);
        stopping = true;
        process.stderr.write(`${signal}: finishing in-flight operations, then exiting\n`);
        running.stop().then(() => process.exit(0), () => process.exit(1));
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
}
catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : `Start-up failed: ${err.stack ?? err}`}\n`);
    process.exit(1);
}
//# sourceMappingURL=index.js.map