/**
 * The README's tables of demo users and visitors against the fixtures they describe, so that the
 * page a new user reads first cannot drift from what `npm start` serves.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS, DEMO_LIMITED_CREDENTIALS, DEMO_VISITORS, FULL_VISITOR_ID, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { DEMO_DEPARTMENTS } from '../../src/demo/departments.js';
import { SANDBOX_VARIABLES } from '../../src/apollo.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('### The demo'), readme.indexOf('## Example'));

/** The rows of the table whose header line starts with `| ${first} |`. */
function rows(first: string): string[][] {
  const lines = section.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  expect(start).toBeGreaterThan(-1);
  const out: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    out.push(
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return out;
}

describe("README's demo tables", () => {
  it('lists both demo users with their real credentials', () => {
    const [agent, limited] = rows('user');
    expect(agent![1]).toBe(`\`${DEMO_CREDENTIALS.userId}\` / \`${DEMO_CREDENTIALS.authToken}\` (BEHAVIOR.md's example credentials)`);
    expect(limited![1]).toBe(`\`${DEMO_LIMITED_CREDENTIALS.userId}\` / \`${DEMO_LIMITED_CREDENTIALS.authToken}\``);
  });

  it('lists every fixture visitor, and nothing the demo does not have except the NOT_FOUND example', () => {
    const listed = rows('visitor id').map((r) => /`([^`]+)`/.exec(r[0]!)![1]!);
    const fixtures = DEMO_VISITORS.map((v) => v._id);
    expect(listed.slice(0, -1).sort()).toEqual([...fixtures].sort());
    expect(fixtures).not.toContain(listed.at(-1));
    expect(listed[0]).toBe(SEED_VISITOR_ID);
    expect(SANDBOX_VARIABLES.id).toBe(FULL_VISITOR_ID);
  });

  it('names the departments the demo holds, the archived one included', () => {
    for (const department of DEMO_DEPARTMENTS) expect(section).toContain(department.name);
    expect(DEMO_DEPARTMENTS.some((d) => d.archived)).toBe(true);
  });
});
