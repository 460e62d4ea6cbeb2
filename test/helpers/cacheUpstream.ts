import { DEMO_VISITORS, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import type { FakeReply, FakeRequest } from './fakeUpstream.js';

const seed = DEMO_VISITORS.find((v) => v._id === SEED_VISITOR_ID)!;

/**
 * A fake Rocket.Chat for cache tests: any id is a visitor whose name carries `version` (so a stale
 * copy shows), until `revoked` makes it answer 401 as for a revoked token. /api/info answers too.
 */
export function cacheUpstream() {
  const state = {
    revoked: false,
    version: 1,
    /** Calls for visitors, not /api/info. */
    visitorCalls: 0,
    script: (req: FakeRequest): FakeReply => {
      if (req.path === '/api/info') return { status: 200, body: { version: '8.4.1', success: true } };
      state.visitorCalls++;
      if (state.revoked) return { status: 401, body: { status: 'error', message: 'You must be logged in to do this.' } };
      return { status: 200, body: { visitor: { ...seed, _id: req.query.visitorId, name: `v${state.version}` }, success: true } };
    },
  };
  return state;
}
