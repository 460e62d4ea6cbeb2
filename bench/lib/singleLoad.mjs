/**
 * The single-visitor load the one-change tools share (ab, cpu, gc, profile): autocannon sending
 * `visitor(id)` with every field and the demo credentials, ids taken in turn from the pool so that
 * no cache or coalescing flatters a figure. The request is one client's exact request
 * (`clientWorkloads()` in workload.mjs): Apollo Client 4's POST by default, or the workload named
 * by `workload` (BENCH_WORKLOAD): `urql`, `apq`, `bare`. `rest: true` sends the proxy's REST GET.
 */
import autocannon from 'autocannon';
import { DEMO_CREDENTIALS } from '../../dist/demo/visitors.js';
import { clientWorkloads, poolIds } from './workload.mjs';

const ids = poolIds(10_000);
let next = 0;
const credentials = { 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId };
export const WORKLOADS = await clientWorkloads();

/** Sends a workload's one-off registration (APQ), if it has one, to the server at `info`. */
export async function prepare(info, workload) {
  const { register } = WORKLOADS[workload];
  if (!register) return;
  const res = await fetch(info.origin + info.path, { method: 'POST', headers: { ...register.headers, ...credentials }, body: register.body(ids[0]) });
  const text = await res.text();
  if (res.status !== 200 || text.includes('"errors"')) throw new Error(`registering the ${workload} query: HTTP ${res.status} ${text.slice(0, 200)}`);
}

/** Loads `info` (a child's `{ origin, path }`) for `duration` seconds; resolves to autocannon's result. */
export async function singleLoad(info, { duration, connections = 50, overallRate, rest = false, workload = process.env.BENCH_WORKLOAD ?? 'apollo-client' }) {
  const spec = WORKLOADS[workload];
  if (!spec) throw new Error(`no workload ${workload}; one of ${Object.keys(WORKLOADS).join(', ')}`);
  if (!rest) await prepare(info, workload);
  return autocannon({
    url: info.origin + info.path,
    connections,
    duration,
    overallRate,
    requests: [
      rest
        ? { method: 'GET', headers: credentials, setupRequest: (req) => ({ ...req, path: `${info.path}?visitorId=${ids[next++ % ids.length]}` }) }
        : {
            method: spec.method,
            headers: { ...credentials, ...spec.headers },
            setupRequest: (req) => {
              const id = ids[next++ % ids.length];
              return spec.method === 'GET' ? { ...req, path: info.path + spec.search(id) } : { ...req, body: spec.body(id) };
            },
          },
    ],
  });
}
