/**
 * The single-visitor load the one-change tools share (ab, cpu, gc, profile): autocannon POSTing
 * `visitor(id)` with every field and the demo credentials, ids taken in turn from the pool so that
 * no cache or coalescing flatters a figure. `rest: true` sends the proxy's REST GET instead.
 */
import autocannon from 'autocannon';
import { DEMO_CREDENTIALS } from '../../dist/demo/visitors.js';
import { poolIds, SINGLE_QUERY } from './workload.mjs';

const ids = poolIds(10_000);
let next = 0;
const credentials = { 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId };

/** Loads `info` (a child's `{ origin, path }`) for `duration` seconds; resolves to autocannon's result. */
export function singleLoad(info, { duration, connections = 50, overallRate, rest = false }) {
  return autocannon({
    url: info.origin + info.path,
    connections,
    duration,
    overallRate,
    requests: [
      rest
        ? { method: 'GET', headers: credentials, setupRequest: (req) => ({ ...req, path: `${info.path}?visitorId=${ids[next++ % ids.length]}` }) }
        : {
            method: 'POST',
            headers: { ...credentials, 'content-type': 'application/json' },
            setupRequest: (req) => ({ ...req, body: JSON.stringify({ query: SINGLE_QUERY, variables: { id: ids[next++ % ids.length] } }) }),
          },
    ],
  });
}
