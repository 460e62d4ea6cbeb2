/**
 * Wire types of Rocket.Chat's `GET /api/v1/livechat/visitors.info` (`ILivechatVisitor` in
 * `@rocket.chat/core-typings`). Every field but `_id` may be absent; dates are ISO-8601 strings.
 * See ../shared/upstream/BEHAVIOR.md. These are the codegen `mappers` targets.
 */
export type WireVisitorStatus = 'online' | 'away' | 'busy' | 'offline' | 'disabled';

export interface WirePhone {
  phoneNumber: string;
}

export interface WireEmail {
  address: string;
}

export interface WireLastChat {
  _id: string;
  ts: string;
}

export interface WireLastAgent {
  username: string;
  agentId: string;
  ts: string;
}

export interface WireContactManager {
  _id?: string;
  username: string;
  name?: string;
  emails?: WireEmail[];
}

export interface WireExternalId {
  appId: string;
  entityId: string;
  metadata?: Record<string, unknown>;
}

export interface WireVisitor {
  _id: string;
  _updatedAt?: string;
  username?: string;
  ts?: string;
  /** Removed from responses since Rocket.Chat 8.5.0. */
  token?: string;
  department?: string;
  name?: string;
  phone?: WirePhone[] | null;
  lastChat?: WireLastChat;
  userAgent?: string;
  ip?: string;
  host?: string;
  visitorEmails?: WireEmail[];
  /** Added in Rocket.Chat 8.4.0. */
  externalIds?: WireExternalId[];
  /** A newer server may send a status this gateway does not know yet. */
  status?: WireVisitorStatus | (string & {});
  lastAgent?: WireLastAgent;
  livechatData?: Record<string, unknown>;
  contactManager?: WireContactManager;
  activity?: string[];
  disabled?: boolean;
}

/** `200 {"visitor": …, "success": true}` */
export interface VisitorsInfoResponse {
  visitor: WireVisitor;
  success: true;
}

/** The error bodies Rocket.Chat answers with (401 has its own shape). */
export interface WireErrorBody {
  success?: false;
  error?: string;
  errorType?: string;
  status?: string;
  message?: string;
}

/** `GET /api/info` */
export interface ServerInfoResponse {
  version: string;
  success: true;
}

/**
 * `ILivechatDepartment` as `GET /api/v1/livechat/department.listByIds` answers it (NEIGHBOURS.md).
 * The type is open: only the fields the schema exposes are typed, and checked at the edge;
 * fields whose types drift between versions (`departmentsAllowedToForward` as `""`,
 * `maxNumberSimultaneousChat` as `""`, `ancestors` as `null`) are not read.
 */
export interface WireDepartment {
  _id: string;
  name?: string;
  enabled?: boolean;
  /** Archiving also sets `enabled: false`. */
  archived?: boolean;
  description?: string;
  email?: string;
  numAgents?: number;
  showOnRegistration?: boolean;
  showOnOfflineForm?: boolean;
  requestTagBeforeClosingChat?: boolean;
  chatClosingTags?: string[];
  _updatedAt?: string;
}

/** `200 {"departments": […], "success": true}`: in the database's order, unknown ids left out. */
export interface DepartmentListResponse {
  departments: WireDepartment[];
  success: true;
}

/**
 * A user as `GET /api/v1/users.info` shows it to an ordinary caller (NEIGHBOURS.md). `emails` come
 * only for oneself or a caller with `view-full-other-user-info`; `roles` never reach an ordinary one.
 */
export interface WireUser {
  _id: string;
  username?: string;
  name?: string;
  /** `online`, `away`, `busy`, `offline`, `disabled`; a newer server may send another. */
  status?: string;
  statusText?: string;
  /** Hours from UTC. */
  utcOffset?: number;
  /** `available`, `not-available`. */
  statusLivechat?: string;
  avatarETag?: string;
  emails?: { address: string; verified?: boolean }[];
}

/** `200 {"user": …, "success": true}` */
export interface UsersInfoResponse {
  user: WireUser;
  success: true;
}

/**
 * A livechat room as `visitors.chatHistory` answers it (`IOmnichannelRoom`, NEIGHBOURS.md): only the
 * fields the schema exposes are typed and checked.
 */
export interface WireChat {
  _id: string;
  /** `l` for a livechat room. */
  t?: string;
  fname?: string;
  /** Opened at. */
  ts?: string;
  _updatedAt?: string;
  /** Message count. */
  msgs?: number;
  /** Last message at. */
  lm?: string;
  departmentId?: string;
  servedBy?: { _id: string; username?: string; ts?: string };
  tags?: string[];
  /** True while open; absent once closed. */
  open?: boolean;
  closedAt?: string;
  /** `user` or `visitor`. */
  closer?: string;
  source?: { type?: string; alias?: string };
}

/** `200 {"history": […], "count", "offset", "total", "success": true}`, newest first. */
export interface ChatHistoryResponse {
  history: WireChat[];
  count: number;
  offset: number;
  total: number;
  success: true;
}

/**
 * A `visitors.search` hit: **only these fields** come back (NEIGHBOURS.md), with a visitor's wire
 * names, so a hit is a partial visitor.
 */
export type WireSearchHit = Pick<WireVisitor, '_id' | 'username' | 'name' | 'phone' | 'livechatData' | 'visitorEmails' | 'lastChat'>;

/** `200 {"visitors": […], "count", "offset", "total", "success": true}`, newest first. */
export interface VisitorSearchResponse {
  visitors: WireSearchHit[];
  count: number;
  offset: number;
  total: number;
  success: true;
}
