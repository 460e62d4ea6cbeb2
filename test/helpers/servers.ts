import { afterEach } from 'vitest';
import { startDemoUpstream, type DemoUpstream, type DemoUpstreamOptions } from '../../src/demo/upstream.js';
import type { GatewayOptions } from '../../src/gateway.js';
import { startFakeUpstream, type FakeScript, type FakeUpstream } from './fakeUpstream.js';
import { startTestGateway, type TestGateway } from './gateway.js';

/**
 * Servers started inside a test and stopped after it, newest first, whatever the test's outcome.
 * Call once at the top of a test file.
 */
export function useServers() {
  let cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });
  return {
    /** Runs `cleanup` after the current test. */
    later(cleanup: () => Promise<void>): void {
      cleanups.push(cleanup);
    },
    async demo(options: DemoUpstreamOptions = { record: true }): Promise<DemoUpstream> {
      const upstream = await startDemoUpstream(options);
      cleanups.push(() => upstream.stop());
      return upstream;
    },
    async fake(script?: FakeScript): Promise<FakeUpstream> {
      const upstream = await startFakeUpstream(script);
      cleanups.push(() => upstream.stop());
      return upstream;
    },
    async gateway(url: string, env: Record<string, string> = {}, options: GatewayOptions = {}): Promise<TestGateway> {
      const gateway = await startTestGateway(url, env, options);
      cleanups.push(() => gateway.stop());
      return gateway;
    },
  };
}
