import DataLoader from 'dataloader';
import { badResponse, GatewayError, missingCredentials } from '../errors.js';
import { eachWithinBudget } from './callBudget.js';
import { VISITOR_ID_PATTERN } from './VisitorsAPI.js';
import type { CallOptions, LoaderOptions } from './client.js';
import type { WireChat, WireVisitor } from './models.js';
import { cursorOf, edgesOf, PAGE_SIZES, pageInfoOf, pageRequest } from './paging.js';

export const MAX_CHATS_PER_PAGE = PAGE_SIZES.chats!.max;
export const DEFAULT_CHATS_PER_PAGE = PAGE_SIZES.chats!.defaultSize;

/** A visitor's chats as a Relay connection's data: one page and where it sits. */
export interface ChatPage {
  chats: WireChat[];
  /** The offset of the first chat of the page. */
  offset: number;
  total: number;
}

/**
 * One caller's view of visitors' chat history (`visitors.chatHistory`) for one operation: one call
 * per visitor and page, however often the operation asks for it. The room in the path is
 * Rocket.Chat's access check; the visitor's last chat is the natural one, and a visitor without
 * one has no chats to show, so no call is made.
 */
export class ChatsAPI {
  readonly #loader: DataLoader<string, ChatPage>;
  readonly #options: LoaderOptions;
  readonly #call: CallOptions | undefined;

  constructor(options: LoaderOptions) {
    this.#options = options;
    const { credentials, call } = options;
    this.#call = 'refused' in credentials ? undefined : { ...call, credentials };
    this.#loader = new DataLoader((keys) => this.#fetchAll(keys));
  }

  /** The page of `first` chats after `after` (an opaque cursor from an earlier page). */
  page(visitor: WireVisitor, first: number | null | undefined, after: string | null | undefined): Promise<ChatPage> {
    const request = pageRequest('chats', CHAT, first, after);
    if (request instanceof GatewayError) return Promise.reject(request);
    const { offset, count } = request;
    const roomId = visitor.lastChat?._id;
    if (!roomId) return Promise.resolve({ chats: [], offset, total: 0 });
    // Room ids are Meteor ids; anything else would go into the route's path as it is.
    if (!VISITOR_ID_PATTERN.test(roomId)) return Promise.reject(badResponse(200, 'visitor.lastChat._id is not a room id'));
    const { credentials } = this.#options;
    if ('refused' in credentials) return Promise.reject(missingCredentials(credentials.refused));
    // `first: 0` still asks for one chat: a console wants the total without the chats.
    const page = this.#loader.load(`${roomId}\n${visitor._id}\n${offset}\n${Math.max(count, 1)}`);
    return count === 0 ? page.then((p) => ({ ...p, chats: [] })) : page;
  }

  #fetchAll(keys: readonly string[]): Promise<(ChatPage | Error)[]> {
    const { client, budget } = this.#options;
    return eachWithinBudget(
      keys,
      budget,
      (key) => {
        const [roomId, visitorId, offset, count] = key.split('\n') as [string, string, string, string];
        return client.getChatHistory(roomId, visitorId, { offset: Number(offset), count: Number(count) }, this.#call!);
      },
      (answer, key) => ({ chats: answer.history, offset: Number(key.split('\n')[2]), total: answer.total }),
    );
  }
}

/** One edge of a chat connection: the chat and its cursor. */
export interface ChatEdgeModel {
  cursor: string;
  node: WireChat;
}

/** The edges of a page, each chat's cursor naming its position in the whole history. */
export function chatEdges(page: ChatPage): ChatEdgeModel[] {
  return edgesOf(CHAT, { items: page.chats, offset: page.offset, total: page.total });
}

/** Relay's page info for a page of `total` chats. */
export function chatPageInfo(page: ChatPage): ReturnType<typeof pageInfoOf> {
  return pageInfoOf(CHAT, { items: page.chats, offset: page.offset, total: page.total });
}

export function chatCursor(offset: number): string {
  return cursorOf(CHAT, offset);
}

const CHAT = 'chat';
