import { expect } from 'vitest';
import type { TestGateway } from './gateway.js';

/** The gateway's `/metrics` text, checked to be Prometheus's text format. */
export async function metricsOf(gateway: TestGateway): Promise<string> {
  const res = await fetch(gateway.url.replace('/graphql', '/metrics'));
  expect(res.headers.get('content-type')).toMatch(/text\/plain/);
  return res.text();
}

/** The sum of the samples of `name` that carry every label of `labels` (`a="x",b="y"`); NaN when none does. */
export function sample(text: string, name: string, labels = ''): number {
  const wanted = labels ? labels.split(',') : [];
  let sum = NaN;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const has = (match[2] ?? '').split(',');
    if (wanted.every((label) => has.includes(label))) sum = (Number.isNaN(sum) ? 0 : sum) + Number(match[3]);
  }
  return sum;
}
