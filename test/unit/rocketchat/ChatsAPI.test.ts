import { describe, expect, it } from 'vitest';
import { FULL_VISITOR_CHATS, OPEN_CHAT_ID } from '../../../src/demo/chats.js';
import { DEMO_CREDENTIALS, FULL_VISITOR_ID } from '../../../src/demo/visitors.js';
import { errorFromResponse, GatewayError } from '../../../src/errors.js';
import { CallBudget } from '../../../src/rocketchat/callBudget.js';
import { Cancellation } from '../../../src/rocketchat/cancellation.js';
import { chatCursor, chatEdges, chatPageInfo, ChatsAPI, DEFAULT_CHATS_PER_PAGE, MAX_CHATS_PER_PAGE, type ChatPage } from '../../../src/rocketchat/ChatsAPI.js';
import type { CallOptions, Credentials, LoaderOptions, RocketChatClient } from '../../../src/rocketchat/client.js';
import type { ChatHistoryResponse, VisitorSearchResponse, WireChat, WireDepartment, WireUser, WireVisitor } from '../../../src/rocketchat/models.js';
import { deferred, rejection, sleep } from '../../helpers/promises.js';

/** One getChatHistory call as the fake saw it. */
interface ChatCall {
  roomId: string;
  visitorId: string;
  page: { offset: number; count: number };
  options: CallOptions;
}

/** How the fake answers one getChatHistory call: a page, a promise of one, or a rejection. */
type Answer = ChatHistoryResponse | Promise<ChatHistoryResponse> | { reject: unknown };

/** Seven chats, newest first, as Rocket.Chat would page through them. */
const HISTORY: readonly WireChat[] = Object.freeze(
  Array.from({ length: 7 }, (_, i) => ({ _id: `cHaT${i}`, t: 'l', ts: `2024-06-${String(20 - i).padStart(2, '0')}T10:00:00.000Z`, msgs: i })),
);

/** The page of `history` Rocket.Chat answers for `offset` and `count`. */
function historyPage(history: readonly WireChat[], { offset, count }: { offset: number; count: number }): ChatHistoryResponse {
  const page = history.slice(offset, offset + count);
  return { history: page, count: page.length, offset, total: history.length, success: true };
}

/**
 * A RocketChatClient that records each getChatHistory call (ids, page and options) and answers
 * from HISTORY unless told otherwise; every other route is recorded so that a test can see it
 * was not used.
 */
class FakeClient implements RocketChatClient {
  readonly chatCalls: ChatCall[] = [];
  readonly visitorCalls: string[] = [];
  readonly departmentCalls: string[][] = [];
  readonly userCalls: string[] = [];
  readonly searchCalls: string[] = [];

  constructor(private readonly answer: (call: ChatCall, index: number) => Answer = (call) => historyPage(HISTORY, call.page)) {}

  async getChatHistory(roomId: string, visitorId: string, page: { offset: number; count: number }, options: CallOptions): Promise<ChatHistoryResponse> {
    const call: ChatCall = { roomId, visitorId, page: { ...page }, options };
    const index = this.chatCalls.length;
    this.chatCalls.push(call);
    await sleep(1);
    const answer = this.answer(call, index);
    if (answer && typeof answer === 'object' && 'reject' in answer) throw answer.reject;
    return answer;
  }

  async getVisitor(id: string): Promise<WireVisitor> {
    this.visitorCalls.push(id);
    return { _id: id };
  }

  async getDepartments(ids: readonly string[]): Promise<WireDepartment[]> {
    this.departmentCalls.push([...ids]);
    return [];
  }

  async getUser(key: string): Promise<WireUser> {
    this.userCalls.push(key);
    return { _id: key };
  }

  async searchVisitors(term: string): Promise<VisitorSearchResponse> {
    this.searchCalls.push(term);
    return { visitors: [], count: 0, offset: 0, total: 0, success: true };
  }

  avatarUrl(username: string): string {
    return `http://rc.invalid/avatar/${username}`;
  }

  async serverInfo() {
    return { version: '8.4.1', success: true as const };
  }

  async close() {}
}

const CREDS: Credentials = { ...DEMO_CREDENTIALS };

/** The full demo visitor as the chats field receives it: its last chat names the room. */
const VISITOR: WireVisitor = { _id: FULL_VISITOR_ID, lastChat: { _id: OPEN_CHAT_ID, ts: '2024-06-12T14:30:59.004Z' } };
const visitorWithRoom = (id: string, room: string): WireVisitor => ({ _id: id, lastChat: { _id: room, ts: '2024-06-12T14:30:59.004Z' } });

function api(client: RocketChatClient, extra: Partial<LoaderOptions> = {}): ChatsAPI {
  return new ChatsAPI({
    client,
    credentials: CREDS,
    call: { requestId: 'req-42', clientIp: '198.51.100.7' },
    budget: new CallBudget(50),
    ...extra,
  });
}

const settleAll = (pages: Promise<ChatPage>[]) => Promise.allSettled(pages);
const reasonOf = (s: PromiseSettledResult<unknown>) => (s as PromiseRejectedResult).reason as GatewayError;
const valueOf = (s: PromiseSettledResult<ChatPage>) => (s as PromiseFulfilledResult<ChatPage>).value;
const ids = (page: ChatPage) => page.chats.map((c) => c._id);
const decode = (cursor: string) => Buffer.from(cursor, 'base64url').toString();

describe('ChatsAPI.page: the call', () => {
  it('without first or after: one call for the visitor’s last room, offset 0, count 10, and the page as answered', async () => {
    const client = new FakeClient();
    const page = await api(client).page(VISITOR, undefined, undefined);
    expect(DEFAULT_CHATS_PER_PAGE).toBe(10);
    expect(client.chatCalls).toHaveLength(1);
    const [call] = client.chatCalls;
    expect(call!.roomId).toBe(OPEN_CHAT_ID);
    expect(call!.visitorId).toBe(FULL_VISITOR_ID);
    expect(call!.page).toStrictEqual({ offset: 0, count: 10 });
    expect(page).toStrictEqual({ chats: [...HISTORY], offset: 0, total: 7 });
    // No other route is used for a page of chats.
    expect(client.visitorCalls).toHaveLength(0);
    expect(client.departmentCalls).toHaveLength(0);
    expect(client.userCalls).toHaveLength(0);
    expect(client.searchCalls).toHaveLength(0);
  });

  it('first: null is the default too', async () => {
    const client = new FakeClient();
    await api(client).page(VISITOR, null, null);
    expect(client.chatCalls.map((c) => c.page)).toStrictEqual([{ offset: 0, count: 10 }]);
  });

  it.each([1, 3, 49, 50])('first: %i asks for that many', async (first) => {
    const client = new FakeClient();
    const page = await api(client).page(VISITOR, first, null);
    expect(client.chatCalls.map((c) => c.page)).toStrictEqual([{ offset: 0, count: first }]);
    expect(ids(page)).toStrictEqual(HISTORY.slice(0, first).map((c) => c._id));
    expect(page.total).toBe(7);
  });

  it('the chats are Rocket.Chat’s own objects, in its order', async () => {
    const client = new FakeClient(() => ({ history: [...FULL_VISITOR_CHATS], count: 3, offset: 0, total: 3, success: true }));
    const page = await api(client).page(VISITOR, 3, null);
    expect(page.chats).toHaveLength(3);
    page.chats.forEach((chat, i) => expect(chat).toBe(FULL_VISITOR_CHATS[i]));
    expect(page.chats[0]!._id).toBe(OPEN_CHAT_ID);
  });

  it('first: 0 asks Rocket.Chat for one chat and returns no chats, but the total', async () => {
    const client = new FakeClient();
    const page = await api(client).page(VISITOR, 0, null);
    expect(client.chatCalls.map((c) => c.page)).toStrictEqual([{ offset: 0, count: 1 }]);
    expect(page).toStrictEqual({ chats: [], offset: 0, total: 7 });
  });

  it('first: 0 after a cursor keeps the offset', async () => {
    const client = new FakeClient();
    const page = await api(client).page(VISITOR, 0, chatCursor(3));
    expect(client.chatCalls.map((c) => c.page)).toStrictEqual([{ offset: 4, count: 1 }]);
    expect(page).toStrictEqual({ chats: [], offset: 4, total: 7 });
  });

  it('passes the caller’s credentials, requestId, clientIp and cancellation, and nothing else', async () => {
    const client = new FakeClient();
    const credentials = { authToken: 'tOkEn-For-This-Caller', userId: 'uSeRfOrThIsCaLl1' };
    const cancellation = new Cancellation();
    const chats = api(client, { credentials, call: { requestId: 'req-xyz', clientIp: '203.0.113.9', cancellation } });
    await Promise.all([chats.page(VISITOR, 2, null), chats.page(VISITOR, 2, chatCursor(1))]);
    expect(client.chatCalls).toHaveLength(2);
    for (const { options } of client.chatCalls) {
      expect(options).toStrictEqual({ credentials, requestId: 'req-xyz', clientIp: '203.0.113.9', cancellation });
      expect(options.cancellation).toBe(cancellation);
    }
  });

  it('without a requestId or clientIp the options carry only the credentials', async () => {
    const client = new FakeClient();
    await api(client, { call: {} }).page(VISITOR, 1, null);
    expect(client.chatCalls[0]!.options).toStrictEqual({ credentials: CREDS });
  });
});

describe('ChatsAPI.page: first must be an integer from 0 to 50', () => {
  it.each([51, -1, 2.5, 1000, Number.NaN, Number.POSITIVE_INFINITY, -0.5])('first: %d → BAD_USER_INPUT, no call, no budget spent', async (first) => {
    const client = new FakeClient();
    const budget = new CallBudget(5);
    const err = await rejection(api(client, { budget }).page(VISITOR, first, null));
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(err.extensions.code).toBe('BAD_USER_INPUT');
    expect(err.message).toContain(String(MAX_CHATS_PER_PAGE));
    expect(err.message).toContain('first');
    expect(client.chatCalls).toHaveLength(0);
    expect(budget.used).toBe(0);
  });

  it('MAX_CHATS_PER_PAGE is 50', () => {
    expect(MAX_CHATS_PER_PAGE).toBe(50);
  });

  it('is checked even for a visitor without a last chat', async () => {
    const client = new FakeClient();
    const err = await rejection(api(client).page({ _id: FULL_VISITOR_ID }, 51, null));
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(client.chatCalls).toHaveLength(0);
  });

  it('a bad first in one field leaves another field’s good page alone', async () => {
    const client = new FakeClient();
    const chats = api(client);
    const [bad, good] = await settleAll([chats.page(VISITOR, 51, null), chats.page(VISITOR, 2, null)]);
    expect(reasonOf(bad!).code).toBe('BAD_USER_INPUT');
    expect(ids(valueOf(good!))).toStrictEqual(['cHaT0', 'cHaT1']);
    expect(client.chatCalls.map((c) => c.page)).toStrictEqual([{ offset: 0, count: 2 }]);
  });
});

describe('ChatsAPI cursors', () => {
  it('chatCursor is `chat:<offset>` in base64url', () => {
    expect(chatCursor(0)).toBe('Y2hhdDow');
    expect(chatCursor(0)).toBe(Buffer.from('chat:0').toString('base64url'));
    expect(decode(chatCursor(12))).toBe('chat:12');
    expect(decode(chatCursor(999_999_999))).toBe('chat:999999999');
    // URL-safe: no `+`, `/` or padding.
    for (let n = 0; n < 200; n++) expect(chatCursor(n)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([0, 1, 2, 6, 41, 999_999_999])('after chatCursor(%i) asks for the chats from the next offset on', async (n) => {
    const client = new FakeClient();
    const page = await api(client).page(VISITOR, 3, chatCursor(n));
    expect(client.chatCalls.map((c) => c.page)).toStrictEqual([{ offset: n + 1, count: 3 }]);
    expect(page.offset).toBe(n + 1);
    expect(ids(page)).toStrictEqual(HISTORY.slice(n + 1, n + 4).map((c) => c._id));
  });

  /** Decodes, as Node's lenient decoder does, to a valid `chat:0`: only the length check refuses it. */
  const OVERLONG = `Y2hh${'*'.repeat(40)}dDow`;

  it.each([
    ['chat:x (Y2hhdDp4)', 'Y2hhdDp4'],
    ['a random string', 'q7T9xZ3kLmWv'],
    ['not-a-cursor in base64url', Buffer.from('not-a-cursor').toString('base64url')],
    ['an overlong cursor', OVERLONG],
    ['an overlong run of valid cursors', chatCursor(1).repeat(6)],
    ['the empty string', ''],
    ['chat:-1', Buffer.from('chat:-1').toString('base64url')],
    ['chat: with ten digits', Buffer.from('chat:1234567890').toString('base64url')],
    ['chat: with no digits', Buffer.from('chat:').toString('base64url')],
    ['another prefix', Buffer.from('visitor:3').toString('base64url')],
    ['chat:1.5', Buffer.from('chat:1.5').toString('base64url')],
    ['chat:3 with a trailing newline', Buffer.from('chat:3\n').toString('base64url')],
    ['the plain text chat:3', 'chat:3'],
  ])('after: %s → BAD_USER_INPUT, no call, no budget spent', async (_label, cursor) => {
    const client = new FakeClient();
    const budget = new CallBudget(5);
    const err = await rejection(api(client, { budget }).page(VISITOR, 3, cursor));
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(err.message).toContain('after');
    if (cursor.length > 3) expect(err.message).not.toContain(cursor);
    expect(client.chatCalls).toHaveLength(0);
    expect(budget.used).toBe(0);
  });

  it('the overlong cursor is refused for its length alone: its text would decode to chat:0', () => {
    expect(OVERLONG.length).toBeGreaterThan(40);
    expect(decode(OVERLONG)).toBe('chat:0');
  });

  it('a tampered cursor is refused even for a visitor without a last chat', async () => {
    const client = new FakeClient();
    const err = await rejection(api(client).page({ _id: FULL_VISITOR_ID }, 3, 'Y2hhdDp4'));
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(client.chatCalls).toHaveLength(0);
  });
});

describe('ChatsAPI: paging with chatEdges and chatPageInfo', () => {
  it('three pages of 3 through 7 chats: each page starts right after the one before’s endCursor', async () => {
    const client = new FakeClient();
    const chats = api(client);
    const seen: string[] = [];
    const infos: ReturnType<typeof chatPageInfo>[] = [];
    let after: string | null = null;
    for (let i = 0; i < 3; i++) {
      const page = await chats.page(VISITOR, 3, after);
      const edges = chatEdges(page);
      expect(edges.map((e) => e.node)).toStrictEqual(page.chats);
      seen.push(...edges.map((e) => e.node._id));
      const info = chatPageInfo(page);
      infos.push(info);
      after = info.endCursor;
    }
    expect(seen).toStrictEqual(HISTORY.map((c) => c._id));
    expect(client.chatCalls.map((c) => c.page)).toStrictEqual([
      { offset: 0, count: 3 },
      { offset: 3, count: 3 },
      { offset: 6, count: 3 },
    ]);
    // The first page.
    expect(infos[0]).toStrictEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: chatCursor(0), endCursor: chatCursor(2) });
    // A middle page.
    expect(infos[1]).toStrictEqual({ hasNextPage: true, hasPreviousPage: true, startCursor: chatCursor(3), endCursor: chatCursor(5) });
    // The last page, of one chat.
    expect(infos[2]).toStrictEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: chatCursor(6), endCursor: chatCursor(6) });
  });

  it('each edge’s cursor names its chat’s position in the whole history', async () => {
    const page = await api(new FakeClient()).page(VISITOR, 3, chatCursor(1));
    const edges = chatEdges(page);
    expect(edges.map((e) => decode(e.cursor))).toStrictEqual(['chat:2', 'chat:3', 'chat:4']);
    expect(edges.map((e) => e.node._id)).toStrictEqual(['cHaT2', 'cHaT3', 'cHaT4']);
    edges.forEach((edge, i) => expect(edge.node).toBe(page.chats[i]));
  });

  it.each([0, 1, 2])('after the cursor of edge %i of a page the next page starts with the chat after it', async (i) => {
    const client = new FakeClient();
    const chats = api(client);
    const first = await chats.page(VISITOR, 3, chatCursor(0));
    const edge = chatEdges(first)[i]!;
    const next = await chats.page(VISITOR, 2, edge.cursor);
    const position = HISTORY.findIndex((c) => c._id === edge.node._id);
    expect(next.offset).toBe(position + 1);
    expect(ids(next)).toStrictEqual(HISTORY.slice(position + 1, position + 3).map((c) => c._id));
    expect(client.chatCalls[1]!.page).toStrictEqual({ offset: position + 1, count: 2 });
  });

  it('a last page that is exactly full has no next page', async () => {
    const six = HISTORY.slice(0, 6);
    const chats = api(new FakeClient((call) => historyPage(six, call.page)));
    const first = await chats.page(VISITOR, 3, null);
    const second = await chats.page(VISITOR, 3, chatPageInfo(first).endCursor);
    expect(chatPageInfo(second)).toStrictEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: chatCursor(3), endCursor: chatCursor(5) });
  });

  it('one page holding the whole history has neither a next nor a previous page', async () => {
    const page = await api(new FakeClient()).page(VISITOR, 10, null);
    expect(chatPageInfo(page)).toStrictEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: chatCursor(0), endCursor: chatCursor(6) });
  });

  it('after the last chat: an empty page, a previous page, no cursors', async () => {
    const page = await api(new FakeClient()).page(VISITOR, 3, chatCursor(6));
    expect(page).toStrictEqual({ chats: [], offset: 7, total: 7 });
    expect(chatEdges(page)).toStrictEqual([]);
    expect(chatPageInfo(page)).toStrictEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null });
  });

  it('first: 0 at the start: no edges, no cursors, but a next page when there are chats', async () => {
    const page = await api(new FakeClient()).page(VISITOR, 0, null);
    expect(chatEdges(page)).toStrictEqual([]);
    expect(chatPageInfo(page)).toStrictEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
  });

  it('chatPageInfo and chatEdges of pages built by hand', () => {
    const [a, b] = [{ _id: 'a' }, { _id: 'b' }];
    expect(chatPageInfo({ chats: [], offset: 0, total: 0 })).toStrictEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
    expect(chatPageInfo({ chats: [a, b], offset: 10, total: 13 })).toStrictEqual({
      hasNextPage: true,
      hasPreviousPage: true,
      startCursor: chatCursor(10),
      endCursor: chatCursor(11),
    });
    expect(chatPageInfo({ chats: [a, b], offset: 11, total: 13 }).hasNextPage).toBe(false);
    expect(chatPageInfo({ chats: [a], offset: 1, total: 2 })).toStrictEqual({
      hasNextPage: false,
      hasPreviousPage: true,
      startCursor: chatCursor(1),
      endCursor: chatCursor(1),
    });
    expect(chatEdges({ chats: [a, b], offset: 10, total: 13 })).toStrictEqual([
      { cursor: chatCursor(10), node: a },
      { cursor: chatCursor(11), node: b },
    ]);
  });
});

describe('ChatsAPI: a visitor without a last chat', () => {
  it.each<[string, WireVisitor]>([
    ['no lastChat', { _id: FULL_VISITOR_ID }],
    ['a lastChat with an empty _id', { _id: FULL_VISITOR_ID, lastChat: { _id: '', ts: '2024-06-12T14:30:59.004Z' } }],
  ])('%s → an empty page with total 0, no call, no budget spent', async (_label, visitor) => {
    const client = new FakeClient();
    const budget = new CallBudget(5);
    await expect(api(client, { budget }).page(visitor, 10, null)).resolves.toStrictEqual({ chats: [], offset: 0, total: 0 });
    expect(client.chatCalls).toHaveLength(0);
    expect(budget.used).toBe(0);
  });

  it('after a cursor, the empty page keeps the offset', async () => {
    const client = new FakeClient();
    await expect(api(client).page({ _id: FULL_VISITOR_ID }, 2, chatCursor(2))).resolves.toStrictEqual({ chats: [], offset: 3, total: 0 });
    expect(client.chatCalls).toHaveLength(0);
  });

  it('its empty page has no next or previous page at the start', async () => {
    const page = await api(new FakeClient()).page({ _id: FULL_VISITOR_ID }, 10, null);
    expect(chatEdges(page)).toStrictEqual([]);
    expect(chatPageInfo(page)).toStrictEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
  });

  it('is not called even with an exhausted budget', async () => {
    const budget = new CallBudget(1);
    budget.take(1);
    const client = new FakeClient();
    await expect(api(client, { budget }).page({ _id: FULL_VISITOR_ID }, 10, null)).resolves.toStrictEqual({ chats: [], offset: 0, total: 0 });
    expect(client.chatCalls).toHaveLength(0);
  });
});

describe('ChatsAPI: one call per room, visitor, offset and count per operation', () => {
  it('the same page asked three times in one tick costs one call, and all three share its answer', async () => {
    const client = new FakeClient();
    const chats = api(client);
    const pages = await Promise.all([chats.page(VISITOR, 3, null), chats.page(VISITOR, 3, undefined), chats.page(VISITOR, 3, null)]);
    expect(client.chatCalls).toHaveLength(1);
    expect(pages[1]).toBe(pages[0]);
    expect(pages[2]).toBe(pages[0]);
  });

  it('a page already loaded in this operation costs no second call later on', async () => {
    const client = new FakeClient();
    const chats = api(client);
    const first = await chats.page(VISITOR, 2, chatCursor(0));
    await expect(chats.page(VISITOR, 2, chatCursor(0))).resolves.toBe(first);
    expect(client.chatCalls).toHaveLength(1);
  });

  it('first omitted and first: 10 are the same page', async () => {
    const client = new FakeClient();
    const chats = api(client);
    await Promise.all([chats.page(VISITOR, undefined, null), chats.page(VISITOR, 10, null), chats.page(VISITOR, null, null)]);
    expect(client.chatCalls.map((c) => c.page)).toStrictEqual([{ offset: 0, count: 10 }]);
  });

  it('first: 0 and first: 1 share the one call, each with its own chats', async () => {
    const client = new FakeClient();
    const chats = api(client);
    const [none, one] = await Promise.all([chats.page(VISITOR, 0, null), chats.page(VISITOR, 1, null)]);
    expect(client.chatCalls.map((c) => c.page)).toStrictEqual([{ offset: 0, count: 1 }]);
    expect(none).toStrictEqual({ chats: [], offset: 0, total: 7 });
    expect(one).toStrictEqual({ chats: [HISTORY[0]], offset: 0, total: 7 });
  });

  it('another offset, count, visitor or room is another call; all go out before any answers', async () => {
    const pending: ReturnType<typeof deferred<ChatHistoryResponse>>[] = [];
    const client = new FakeClient((call) => {
      const d = deferred<ChatHistoryResponse>();
      pending.push(d);
      void call;
      return d.promise;
    });
    const chats = api(client);
    const loads = [
      chats.page(VISITOR, 3, null),
      chats.page(VISITOR, 3, chatCursor(0)),
      chats.page(VISITOR, 4, null),
      chats.page(visitorWithRoom('oThErViSiToR0001', OPEN_CHAT_ID), 3, null),
      chats.page(visitorWithRoom(FULL_VISITOR_ID, 'cLoSeDcHaT2024May'), 3, null),
      chats.page(VISITOR, 3, null),
    ];
    await sleep(20);
    expect(client.chatCalls.map((c) => [c.roomId, c.visitorId, c.page.offset, c.page.count])).toStrictEqual([
      [OPEN_CHAT_ID, FULL_VISITOR_ID, 0, 3],
      [OPEN_CHAT_ID, FULL_VISITOR_ID, 1, 3],
      [OPEN_CHAT_ID, FULL_VISITOR_ID, 0, 4],
      [OPEN_CHAT_ID, 'oThErViSiToR0001', 0, 3],
      ['cLoSeDcHaT2024May', FULL_VISITOR_ID, 0, 3],
    ]);
    expect(pending).toHaveLength(5);
    // Answered in reverse order: each page still gets its own call's answer.
    for (let i = pending.length - 1; i >= 0; i--) pending[i]!.resolve({ history: [{ _id: `answer${i}` }], count: 1, offset: i, total: 100 + i, success: true });
    const pages = await Promise.all(loads);
    expect(pages.map((p) => p.total)).toStrictEqual([100, 101, 102, 103, 104, 100]);
    expect(pages.map((p) => p.chats[0]!._id)).toStrictEqual(['answer0', 'answer1', 'answer2', 'answer3', 'answer4', 'answer0']);
    // The page's offset is the one asked for, whatever the answer says.
    expect(pages.map((p) => p.offset)).toStrictEqual([0, 1, 0, 0, 0, 0]);
  });

  it('two ChatsAPIs (two requests) never share an answer', async () => {
    const client = new FakeClient();
    const first = api(client, { credentials: { authToken: 'tOkEnA', userId: 'uSeRa' } });
    const second = api(client, { credentials: { authToken: 'tOkEnB', userId: 'uSeRb' } });
    await Promise.all([first.page(VISITOR, 3, null), second.page(VISITOR, 3, null)]);
    expect(client.chatCalls.map((c) => c.options.credentials.userId).sort()).toStrictEqual(['uSeRa', 'uSeRb']);
  });
});

describe('ChatsAPI spends the operation’s shared call budget', () => {
  it('CallBudget(2) with 3 distinct pages: two calls, the third UPSTREAM_BUDGET_EXCEEDED', async () => {
    const client = new FakeClient();
    const budget = new CallBudget(2);
    const chats = api(client, { budget });
    const settled = await settleAll([chats.page(VISITOR, 1, null), chats.page(VISITOR, 2, null), chats.page(VISITOR, 1, null), chats.page(VISITOR, 3, null)]);
    expect(client.chatCalls.map((c) => c.page.count)).toStrictEqual([1, 2]);
    expect(settled.map((s) => s.status)).toStrictEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    const over = reasonOf(settled[3]!);
    expect(over).toBeInstanceOf(GatewayError);
    expect(over.code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    expect(over.extensions.code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    expect(over.message).toContain('2');
    // Raised per field during execution, not as a refusal of the whole request.
    expect(over.http).toBeUndefined();
    expect(budget.used).toBe(2);
  });

  it('a budget other loaders already used up: rejected, no call, budget unchanged', async () => {
    const client = new FakeClient();
    const budget = new CallBudget(3);
    expect(budget.take(3)).toBe(3);
    const err = await rejection(api(client, { budget }).page(VISITOR, 3, null));
    expect(err.code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    expect(client.chatCalls).toHaveLength(0);
    expect(budget.used).toBe(3);
  });

  it('a budget another loader shares: what it took is not available to the chats', async () => {
    const client = new FakeClient();
    const budget = new CallBudget(3);
    expect(budget.take(2)).toBe(2);
    const chats = api(client, { budget });
    const settled = await settleAll([chats.page(VISITOR, 1, null), chats.page(VISITOR, 2, null)]);
    expect(settled.map((s) => s.status)).toStrictEqual(['fulfilled', 'rejected']);
    expect(reasonOf(settled[1]!).code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    expect(client.chatCalls).toHaveLength(1);
    expect(budget.used).toBe(3);
  });

  it('repeated loads of one page take one call off the budget, later ones too', async () => {
    const budget = new CallBudget(10);
    const chats = api(new FakeClient(), { budget });
    await Promise.all([chats.page(VISITOR, 3, null), chats.page(VISITOR, 3, null), chats.page(VISITOR, 3, chatCursor(2)), chats.page(VISITOR, 0, null)]);
    await chats.page(VISITOR, 3, null);
    expect(budget.used).toBe(3);
  });
});

describe('ChatsAPI refuses before calling Rocket.Chat', () => {
  it('refused credentials → UNAUTHENTICATED naming the reason, no call, no budget spent', async () => {
    const client = new FakeClient();
    const budget = new CallBudget(5);
    const chats = api(client, { credentials: { refused: 'missing X-Auth-Token or X-User-Id' }, budget });
    const settled = await settleAll([chats.page(VISITOR, 3, null), chats.page(VISITOR, 0, chatCursor(1))]);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      const reason = reasonOf(s);
      expect(reason).toBeInstanceOf(GatewayError);
      expect(reason.code).toBe('UNAUTHENTICATED');
      expect(reason.message).toContain('missing X-Auth-Token or X-User-Id');
    }
    expect(client.chatCalls).toHaveLength(0);
    expect(budget.used).toBe(0);
  });
});

describe('ChatsAPI when a call fails', () => {
  it('a FORBIDDEN from the client rejects its own page only; the others of the tick resolve', async () => {
    const forbidden = errorFromResponse(
      400,
      { success: false, error: 'invalid-room' },
      {},
      {
        permission: 'view-l-room',
        callerParams: false,
        forbidden: ['invalid-room', 'error-not-allowed'],
      },
    );
    expect(forbidden.code).toBe('FORBIDDEN');
    const client = new FakeClient((call) => (call.roomId === 'gOnErOoM' ? { reject: forbidden } : historyPage(HISTORY, call.page)));
    const chats = api(client);
    const settled = await settleAll([
      chats.page(VISITOR, 2, null),
      chats.page(visitorWithRoom(FULL_VISITOR_ID, 'gOnErOoM'), 2, null),
      chats.page(visitorWithRoom(FULL_VISITOR_ID, 'gOnErOoM'), 0, null),
    ]);
    expect(settled.map((s) => s.status)).toStrictEqual(['fulfilled', 'rejected', 'rejected']);
    expect(reasonOf(settled[1]!)).toBe(forbidden);
    expect(reasonOf(settled[2]!)).toBe(forbidden);
    expect(ids(valueOf(settled[0]!))).toStrictEqual(['cHaT0', 'cHaT1']);
    expect(client.chatCalls).toHaveLength(3);
  });

  it('a non-Error rejection becomes an Error for its page alone', async () => {
    const client = new FakeClient((call) => (call.page.offset === 0 ? { reject: 'plain string' } : historyPage(HISTORY, call.page)));
    const chats = api(client);
    const settled = await settleAll([chats.page(VISITOR, 2, null), chats.page(VISITOR, 2, chatCursor(1))]);
    expect(settled.map((s) => s.status)).toStrictEqual(['rejected', 'fulfilled']);
    const reason = (settled[0] as PromiseRejectedResult).reason as unknown;
    expect(reason).toBeInstanceOf(Error);
    expect((reason as Error).message).toBe('plain string');
  });
});
