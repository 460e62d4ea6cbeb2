/**
 * The single-visitor load the one-change tools share (ab, cpu, gc, profile): autocannon POSTing
 * `visitor(id)` with every field and the demo credentials, ids taken in turn from the pool so that
 * no cache or coalescing flatters a figure. The body is Apollo Client 4's exact request (what the
 * main client sends); `body: 'bare'` sends a bare `{query, variables}` instead, and `rest: true`
 * the proxy's REST GET.
 */
import autocannon from 'autocannon';
import { DEMO_CREDENTIALS } from '../../dist/demo/visitors.js';
import { apolloClientRequest, poolIds, SINGLE_QUERY } from './workload.mjs';

const ids = poolIds(10_000);
let next = 0;
const credentials = { 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId };

/** Loads `info` (a child's `{ origin, path }`) for `duration` seconds; resolves to autocannon's result. */
const apolloClient = await apolloClientRequest();

export function singleLoad(info, { duration, connections = 50, overallRate, rest = false, body = process.env.BENCH_BODY ?? 'apollo-client' }) {
  const bare = body === 'bare';
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
            headers: { ...credentials, ...(bare ? { 'content-type': 'application/json' } : apolloClient.headers) },
            setupRequest: (req) => {
              const id = ids[next++ % ids.length];
              return { ...req, body: bare ? JSON.stringify({ query: SINGLE_QUERY, variables: { id } }) : apolloClient.body(id) };
            },
          },
    ],
  });
}
