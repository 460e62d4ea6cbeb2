import { Ajv, type ErrorObject, type SchemaObject } from 'ajv';
import { badResponse, errorFromResponse } from '../errors.js';
import type {
  ChatHistoryResponse,
  VisitorSearchResponse,
  DepartmentListResponse,
  UsersInfoResponse,
  VisitorsInfoResponse,
  WireDepartment,
  WireErrorBody,
  WireUser,
  WireVisitor,
} from './models.js';

/**
 * The shape check between Rocket.Chat and the resolvers: what passes here is safe to map field by
 * field. Objects stay open so that fields a newer server adds never fail a query; `status` stays
 * a plain string so that an unknown value is a warning (Visitor.ts), not an error.
 *
 * A JSON Schema compiled once by Ajv: it checks the parsed body in place, where a schema library
 * that copies every object on the way through cost more per visitor than the rest of the upstream
 * call's own work (it runs once per visitor, 50 times for a full `visitors(ids)`).
 */

/**
 * RFC 3339 with an offset, every field in its range (no hour 24, no leap second: JavaScript's Date
 * has neither); DateTime serialises these unchanged (executor.ts). No capture groups: only the
 * match is needed, and the day is then read from fixed positions.
 */
const ISO_DATE_TIME = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** Days in each month of a common year; February's 29th is checked against the year. */
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const digit = (text: string, at: number) => text.charCodeAt(at) - 48;

/**
 * A date that exists: the pattern alone passes 2024-02-30, which the DateTime scalar would shift
 * to March 1st and the compiled serialiser would print as sent. Days up to the 28th exist in every
 * month, so nearly every date is settled by the pattern and one comparison.
 */
function isDateTime(text: string): boolean {
  if (!ISO_DATE_TIME.test(text)) return false;
  const day = digit(text, 8) * 10 + digit(text, 9);
  if (day <= 28) return true;
  const month = digit(text, 5) * 10 + digit(text, 6);
  if (day <= DAYS_IN_MONTH[month]!) return true;
  if (month !== 2 || day !== 29) return false;
  const year = digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3);
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const DATE_TIME_FORMAT = 'rocketchat-date-time';

const string = { type: 'string' };
const date = { type: 'string', format: DATE_TIME_FORMAT };
const object = (properties: Record<string, SchemaObject>, required: string[] = []): SchemaObject => ({ type: 'object', properties, required });
const arrayOf = (items: SchemaObject): SchemaObject => ({ type: 'array', items });
const record = { type: 'object' };
const email = object({ address: string }, ['address']);

const VISITOR = object(
  {
    _id: { type: 'string', minLength: 1 },
    _updatedAt: date,
    username: string,
    ts: date,
    token: string,
    department: string,
    name: string,
    phone: { type: ['array', 'null'], items: object({ phoneNumber: string }, ['phoneNumber']) },
    lastChat: object({ _id: string, ts: date }, ['_id']),
    userAgent: string,
    ip: string,
    host: string,
    visitorEmails: arrayOf(email),
    externalIds: arrayOf(object({ appId: string, entityId: string, metadata: record }, ['appId', 'entityId'])),
    status: string,
    lastAgent: object({ username: string, agentId: string, ts: date }, ['agentId']),
    livechatData: record,
    contactManager: object({ _id: string, username: string, name: string, emails: arrayOf(email) }),
    activity: arrayOf(string),
    disabled: { type: 'boolean' },
  },
  ['_id'],
);

const ajv = new Ajv({ allErrors: false });
ajv.addFormat(DATE_TIME_FORMAT, { type: 'string', validate: isDateTime });
const isVisitorsInfo = ajv.compile<VisitorsInfoResponse>(object({ success: { const: true }, visitor: VISITOR }, ['success', 'visitor']));

const boolean = { type: 'boolean' };
const DEPARTMENT = object(
  {
    _id: { type: 'string', minLength: 1 },
    name: string,
    enabled: boolean,
    archived: boolean,
    description: string,
    email: string,
    numAgents: { type: 'number' },
    showOnRegistration: boolean,
    showOnOfflineForm: boolean,
    requestTagBeforeClosingChat: boolean,
    chatClosingTags: arrayOf(string),
    _updatedAt: date,
  },
  ['_id'],
);
const isDepartmentList = ajv.compile<DepartmentListResponse>(
  object({ success: { const: true }, departments: arrayOf(DEPARTMENT) }, ['success', 'departments']),
);

const USER = object(
  {
    _id: { type: 'string', minLength: 1 },
    username: string,
    name: string,
    status: string,
    statusText: string,
    utcOffset: { type: 'number' },
    statusLivechat: string,
    avatarETag: string,
    emails: arrayOf(object({ address: string, verified: boolean }, ['address'])),
  },
  ['_id'],
);
const CHAT = object(
  {
    _id: { type: 'string', minLength: 1 },
    t: string,
    fname: string,
    ts: date,
    _updatedAt: date,
    msgs: { type: 'integer', minimum: 0, maximum: 2147483647 },
    lm: date,
    departmentId: string,
    servedBy: object({ _id: string, username: string, ts: date }, ['_id']),
    tags: arrayOf(string),
    open: boolean,
    closedAt: date,
    closer: string,
    source: object({ type: string, alias: string }),
  },
  ['_id'],
);
const count = { type: 'integer', minimum: 0 };
const isChatHistory = ajv.compile<ChatHistoryResponse>(
  object({ success: { const: true }, history: arrayOf(CHAT), count, offset: count, total: count }, ['success', 'history', 'total']),
);
const SEARCH_HIT = object(
  {
    _id: { type: 'string', minLength: 1 },
    username: string,
    name: string,
    phone: { anyOf: [{ type: 'null' }, arrayOf(object({ phoneNumber: string }, ['phoneNumber']))] },
    livechatData: record,
    visitorEmails: arrayOf(email),
    lastChat: object({ _id: string, ts: date }, ['_id']),
  },
  ['_id'],
);
const isVisitorSearch = ajv.compile<VisitorSearchResponse>(
  object({ success: { const: true }, visitors: arrayOf(SEARCH_HIT), count, offset: count, total: count }, ['success', 'visitors', 'total']),
);
const isUsersInfo = ajv.compile<UsersInfoResponse>(object({ success: { const: true }, user: USER }, ['success', 'user']));

/** MAX_JSON_DEPTH's default (config.ts), for callers that do not pass one. */
export const DEFAULT_MAX_JSON_DEPTH = 20;

/**
 * Turns one visitors.info answer into a visitor or the catalogue error for it. `maxJsonDepth`
 * bounds the visitor's free-form values (see freeFormTooDeep).
 */
export function parseVisitorsInfo(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
  maxJsonDepth = DEFAULT_MAX_JSON_DEPTH,
): WireVisitor {
  if (status !== 200) throw errorFromResponse(status, body as WireErrorBody | undefined, headers);
  if (body && typeof body === 'object' && (body as WireErrorBody).success === false) {
    throw errorFromResponse(200, body as WireErrorBody, headers);
  }
  if (!isVisitorsInfo(body)) throw badResponse(status, shapeError(isVisitorsInfo.errors?.[0]));
  const visitor = body.visitor;
  const tooDeep = freeFormTooDeep(visitor, maxJsonDepth);
  if (tooDeep !== undefined) throw badResponse(status, `visitor.${tooDeep} is nested deeper than ${maxJsonDepth}`);
  return visitor;
}

/**
 * Turns one department.listByIds answer into its departments or the catalogue error for it. The
 * departments' other fields are never read or passed on, so their nesting needs no bound here.
 */
export function parseDepartmentList(status: number, headers: Record<string, string | string[] | undefined>, body: unknown): WireDepartment[] {
  if (status !== 200) throw errorFromResponse(status, body as WireErrorBody | undefined, headers, DEPARTMENT_ROUTE);
  if (body && typeof body === 'object' && (body as WireErrorBody).success === false) {
    throw errorFromResponse(200, body as WireErrorBody, headers, DEPARTMENT_ROUTE);
  }
  if (!isDepartmentList(body)) throw badResponse(status, shapeError(isDepartmentList.errors?.[0]));
  return body.departments;
}

/**
 * Turns one users.info answer into the user or the catalogue error for it (`User not found.` is
 * NOT_FOUND). Only the fields the schema exposes are read; custom fields and the rest are not.
 */
export function parseUsersInfo(status: number, headers: Record<string, string | string[] | undefined>, body: unknown): WireUser {
  if (status !== 200) throw errorFromResponse(status, body as WireErrorBody | undefined, headers, USERS_INFO_ROUTE);
  if (body && typeof body === 'object' && (body as WireErrorBody).success === false) {
    throw errorFromResponse(200, body as WireErrorBody, headers, USERS_INFO_ROUTE);
  }
  if (!isUsersInfo(body)) throw badResponse(status, shapeError(isUsersInfo.errors?.[0]));
  return body.user;
}

/**
 * One page of visitors.search hits, or the catalogue error for it. A hit is a partial visitor, so
 * its free-form values are bounded as a visitor's are.
 */
export function parseVisitorSearch(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
  maxJsonDepth = DEFAULT_MAX_JSON_DEPTH,
): VisitorSearchResponse {
  if (status !== 200) throw errorFromResponse(status, body as WireErrorBody | undefined, headers, SEARCH_ROUTE);
  if (body && typeof body === 'object' && (body as WireErrorBody).success === false) throw errorFromResponse(200, body as WireErrorBody, headers, SEARCH_ROUTE);
  if (!isVisitorSearch(body)) throw badResponse(status, shapeError(isVisitorSearch.errors?.[0]));
  for (const [i, hit] of body.visitors.entries()) {
    const tooDeep = freeFormTooDeep(hit, maxJsonDepth);
    if (tooDeep !== undefined) throw badResponse(status, `visitors.${i}.${tooDeep} is nested deeper than ${maxJsonDepth}`);
  }
  return body;
}

/** The search term is the caller's, so Rocket.Chat refusing it is the caller's BAD_USER_INPUT. */
const SEARCH_ROUTE = { permission: 'view-l-room', callerParams: true };

/** One page of a visitor's chats from visitors.chatHistory, or the catalogue error for it. */
export function parseChatHistory(status: number, headers: Record<string, string | string[] | undefined>, body: unknown): ChatHistoryResponse {
  if (status !== 200) throw errorFromResponse(status, body as WireErrorBody | undefined, headers, CHAT_HISTORY_ROUTE);
  if (body && typeof body === 'object' && (body as WireErrorBody).success === false) {
    throw errorFromResponse(200, body as WireErrorBody, headers, CHAT_HISTORY_ROUTE);
  }
  if (!isChatHistory(body)) throw badResponse(status, shapeError(isChatHistory.errors?.[0]));
  return body;
}

/**
 * The room in the path is an access check: `invalid-room` (no such livechat room) and
 * `error-not-allowed` (the caller cannot see it) both mean this caller may not read the history.
 */
const CHAT_HISTORY_ROUTE = { permission: 'view-l-room', callerParams: false, forbidden: ['invalid-room', 'error-not-allowed'] };

/** Any logged-in user may call it; the user ids come from Rocket.Chat's own records. */
const USERS_INFO_ROUTE = { permission: undefined, callerParams: false, notFound: { error: 'User not found.', message: 'User not found.' } };

/** The ids come from the gateway (the caller's are checked before), so a refusal of them is the gateway's. */
const DEPARTMENT_ROUTE = { permission: 'view-livechat-departments or view-l-room', callerParams: false };

/**
 * The path (below `visitor.`) of the first free-form value nested deeper than `limit`, or
 * undefined. Free-form is `livechatData`, `externalIds[].metadata`, and any field this gateway
 * does not know, at any level. Ajv leaves such values unexamined, so one nested 5 000 levels
 * deep would pass, only to overflow the stack of the first recursive reader: the response's
 * JSON.stringify (an HTTP 500 that loses the whole batch) or the shared cache's. The visitor's
 * own structure (phones, e-mails, the contact manager's e-mails) is not counted, so that even
 * MAX_JSON_DEPTH=1 leaves it be; Ajv has already checked its types.
 *
 * Written out per known field rather than driven by a table: each `for…in` then sees few object
 * shapes, which measured a quarter cheaper. The walk costs about 240 ns for the full demo visitor
 * (nearly all of it one `for…in` per small object) and 60 ns for BEHAVIOR.md's example. Nothing
 * here recurses on the data itself.
 */
function freeFormTooDeep(visitor: WireVisitor, limit: number): string | undefined {
  for (const key in visitor) {
    const value: unknown = (visitor as unknown as Record<string, unknown>)[key];
    if (typeof value !== 'object' || value === null) continue;
    let at: string | undefined;
    switch (key) {
      case 'phone':
      case 'visitorEmails':
      case 'externalIds':
        at = inItems(value as unknown[], limit);
        break;
      case 'lastChat':
      case 'lastAgent':
        at = inFields(value, limit);
        break;
      case 'contactManager':
        at = inContactManager(value, limit);
        break;
      case 'activity':
        continue; // strings only, as Ajv checked
      default:
        if (nestsDeeperThan(value, limit)) return pathSegment(key);
        continue;
    }
    if (at !== undefined) return `${key}.${at}`;
  }
  return undefined;
}

function inItems(list: unknown[], limit: number): string | undefined {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item !== 'object' || item === null) continue;
    const at = inFields(item, limit);
    if (at !== undefined) return `${i}.${at}`;
  }
  return undefined;
}

/** An object whose known fields are scalars: any object or array in it is free-form. */
function inFields(fields: object, limit: number): string | undefined {
  for (const key in fields) {
    const value: unknown = (fields as Record<string, unknown>)[key];
    if (typeof value === 'object' && value !== null && nestsDeeperThan(value, limit)) return pathSegment(key);
  }
  return undefined;
}

function inContactManager(manager: object, limit: number): string | undefined {
  for (const key in manager) {
    const value: unknown = (manager as Record<string, unknown>)[key];
    if (typeof value !== 'object' || value === null) continue;
    if (key === 'emails') {
      const at = inItems(value as unknown[], limit);
      if (at !== undefined) return `emails.${at}`;
    } else if (nestsDeeperThan(value, limit)) {
      return pathSegment(key);
    }
  }
  return undefined;
}

/** A key from the wire goes into an error message only when it looks like a field name. */
function pathSegment(key: string): string {
  return /^[A-Za-z_$][\w$-]{0,63}$/.test(key) ? key : '*';
}

// One explicit stack for every walk: the walk is synchronous and never re-entered, so it needs no
// allocation per visitor, and a hostile nesting cannot overflow the call stack. Cleared after each
// walk so that it keeps no visitor alive.
const stackNodes: (object | null)[] = [];
const stackDepths: number[] = [];
let stackSize = 0;

/** Puts an object or array met at `depth` on the stack; false when it would be one level too deep. */
function pushChild(child: unknown, depth: number, limit: number): boolean {
  if (typeof child !== 'object' || child === null) return true;
  if (depth === limit) return false;
  stackNodes[stackSize] = child;
  stackDepths[stackSize++] = depth + 1;
  return true;
}

/** True when `value` nests objects and arrays more than `limit` levels deep, itself being level 1. */
function nestsDeeperThan(value: object, limit: number): boolean {
  if (limit < 1) return true;
  stackNodes[0] = value;
  stackDepths[0] = 1;
  stackSize = 1;
  let tooDeep = false;
  walk: while (stackSize > 0) {
    stackSize--;
    const node = stackNodes[stackSize]!;
    const depth = stackDepths[stackSize]!;
    stackNodes[stackSize] = null;
    // One loop per kind rather than Object.values: no array allocated per object on the hot path.
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        if (!pushChild(node[i], depth, limit)) {
          tooDeep = true;
          break walk;
        }
      }
    } else {
      for (const key in node) {
        if (!pushChild((node as Record<string, unknown>)[key], depth, limit)) {
          tooDeep = true;
          break walk;
        }
      }
    }
  }
  const size = stackSize;
  stackSize = 0;
  for (let i = 0; i < size; i++) stackNodes[i] = null;
  // A very wide value grew the stack; ordinary visitors need a few entries, so let that memory go.
  if (stackNodes.length > 1024) stackNodes.length = stackDepths.length = 0;
  return tooDeep;
}

function shapeError(error: ErrorObject | undefined): string {
  return error?.keyword === 'format' ? `${where(error)} is not a valid date-time` : `unexpected shape at ${where(error)}`;
}

/** `visitor.phone.0.phoneNumber`: the path only, never the offending value. */
function where(error: ErrorObject | undefined): string {
  if (!error) return 'body';
  const path = error.instancePath.split('/').slice(1);
  if (error.keyword === 'required') path.push(String(error.params.missingProperty));
  return path.join('.') || 'body';
}
