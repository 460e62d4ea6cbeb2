/**
 * The child side of the runner's process protocol: every server the bench measures lives in its own
 * process so that it never shares an event loop with the load generator or the upstream.
 */

/**
 * Starts a server with `start()`, tells the runner where it listens, then answers the runner's
 * questions over IPC. `start` resolves to `{ info, answer? }`: `info` goes in the ready message,
 * `answer(cmd)` serves any command besides the built-in `memory`.
 */
export function runChild(start) {
  if (!process.send) {
    process.stderr.write('This file is started by bench/run.mjs, which talks to it over IPC.\n');
    process.exit(2);
  }
  // Without its runner an orphaned server would hold a port and a core; the IPC channel closing is
  // the one signal that also arrives when the runner was killed with SIGKILL.
  process.on('disconnect', () => process.exit(0));

  start().then(
    ({ info, answer }) => {
      process.on('message', (msg) => {
        if (!msg || typeof msg.id !== 'number') return;
        let result;
        try {
          if (msg.cmd === 'memory') {
            // Collected first so the figure is live memory, not whatever garbage the last run left.
            globalThis.gc?.();
            result = { ...process.memoryUsage(), gcExposed: typeof globalThis.gc === 'function' };
          } else {
            result = answer ? answer(msg.cmd) : undefined;
          }
          process.send({ id: msg.id, result });
        } catch (err) {
          process.send({ id: msg.id, error: String(err?.stack ?? err) });
        }
      });
      process.send({ ready: true, info });
    },
    (err) => {
      process.stderr.write(`${process.argv[1]}: failed to start: ${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
