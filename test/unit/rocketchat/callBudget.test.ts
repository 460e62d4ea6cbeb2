import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { CallBudget, eachWithinBudget } from '../../../src/rocketchat/callBudget.js';
import { DepartmentsAPI } from '../../../src/rocketchat/DepartmentsAPI.js';
import type { WireDepartment } from '../../../src/rocketchat/models.js';
import { parseVisitorSearch } from '../../../src/rocketchat/validate.js';
import { recordWireSize } from '../../../src/rocketchat/wireSize.js';
import { otherRoutes } from '../../helpers/otherRoutes.js';

const credentials = { authToken: 't', userId: 'u' };

describe('CallBudget', () => {
  it('grants calls up to its maximum and counts only what it granted', () => {
    const budget = new CallBudget(3);
    expect(budget.take(2)).toBe(2);
    expect(budget.take(5)).toBe(1);
    expect(budget.take(1)).toBe(0);
    expect(budget.used).toBe(3);
  });

  it('takes bytes while they fit, and nothing for an answer that would not fit', () => {
    const budget = new CallBudget(10, 100);
    expect(budget.spendBytes(60)).toBe(true);
    expect(budget.spendBytes(50)).toBe(false);
    expect(budget.spendBytes(40)).toBe(true);
    expect(budget.spendBytes(1)).toBe(false);
  });
});

describe('eachWithinBudget', () => {
  it('calls each key within the call budget, refuses the rest, and charges each answer by the size it came in', async () => {
    const budget = new CallBudget(2, 1_000);
    const called: string[] = [];
    const answers = await eachWithinBudget(
      ['small', 'huge', 'past'],
      budget,
      async (key) => {
        called.push(key);
        const answer = { key };
        recordWireSize(answer, key === 'huge' ? 5_000 : 10);
        return answer;
      },
      (answer) => answer.key.toUpperCase(),
    );
    expect(called).toEqual(['small', 'huge']);
    expect(answers[0]).toBe('SMALL');
    expect((answers[1] as GatewayError).code).toBe('RESPONSE_TOO_LARGE');
    expect((answers[2] as GatewayError).code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    // The refused answer took nothing: the rest of the byte budget is still there.
    expect(budget.spendBytes(990)).toBe(true);
  });

  it('puts each failure at its own index, as an Error', async () => {
    const answers = await eachWithinBudget(
      ['a', 'b'],
      new CallBudget(5),
      (key) => (key === 'a' ? Promise.reject('plain') : Promise.resolve({ key })),
      (a) => a.key,
    );
    expect(answers[0]).toBeInstanceOf(Error);
    expect(answers[1]).toBe('b');
  });
});

describe('department lists count against the byte budget', () => {
  it('a list too big for what is left of the answer is RESPONSE_TOO_LARGE for every department in it', async () => {
    const list: WireDepartment[] = [
      { _id: 'd1', name: 'One' },
      { _id: 'd2', name: 'Two' },
    ];
    recordWireSize(list, 10_000);
    const client = {
      ...otherRoutes(),
      getDepartments: async () => list,
      getVisitor: async () => ({ _id: 'v' }),
      serverInfo: async () => ({ version: '8', success: true as const }),
      close: async () => {},
    };
    const departments = new DepartmentsAPI({ client, credentials, call: {}, budget: new CallBudget(10, 5_000) });
    const settled = await Promise.allSettled([departments.load('d1'), departments.load('d2')]);
    for (const s of settled) expect(((s as PromiseRejectedResult).reason as GatewayError).code).toBe('RESPONSE_TOO_LARGE');
  });
});

describe('parseVisitorSearch', () => {
  const page = (visitors: unknown[]) => ({ visitors, count: visitors.length, offset: 0, total: visitors.length, success: true });

  it('takes hits with the seven fields (a null phone included)', () => {
    const answer = parseVisitorSearch(
      200,
      {},
      page([{ _id: 'v1', name: 'Ada', phone: null, livechatData: { plan: 'x' }, visitorEmails: [{ address: 'a@example.org' }] }]),
    );
    expect(answer.visitors[0]!._id).toBe('v1');
  });

  it('refuses a hit without an id and a hit whose custom fields nest past MAX_JSON_DEPTH', () => {
    const code = (body: unknown) => {
      try {
        parseVisitorSearch(200, {}, body, 5);
      } catch (err) {
        return (err as GatewayError).code;
      }
      return 'accepted';
    };
    expect(code(page([{ name: 'no id' }]))).toBe('UPSTREAM_BAD_RESPONSE');
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 10; i++) deep = { deeper: deep };
    expect(code(page([{ _id: 'v1', livechatData: deep }]))).toBe('UPSTREAM_BAD_RESPONSE');
    expect(code({ visitors: 'nope', total: 0, success: true })).toBe('UPSTREAM_BAD_RESPONSE');
  });

  it("maps Rocket.Chat's refusals: a bad term is the caller's BAD_USER_INPUT, a missing permission FORBIDDEN", () => {
    const codeOf = (status: number, body: unknown) => {
      try {
        parseVisitorSearch(status, {}, body);
      } catch (err) {
        return (err as GatewayError).code;
      }
      return 'accepted';
    };
    expect(codeOf(400, { success: false, error: "must have required property 'term' [invalid-params]", errorType: 'invalid-params' })).toBe('BAD_USER_INPUT');
    expect(codeOf(403, { success: false, error: 'User does not have the permissions required for this action [error-unauthorized]' })).toBe('FORBIDDEN');
    expect(codeOf(401, { status: 'error', message: 'You must be logged in to do this.' })).toBe('UNAUTHENTICATED');
  });
});
