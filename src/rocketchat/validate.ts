import { Ajv, type ErrorObject, type SchemaObject } from 'ajv';
import { badResponse, errorFromResponse } from '../errors.js';
import type { VisitorsInfoResponse, WireErrorBody, WireVisitor } from './models.js';

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
 * has neither); DateTime serialises these unchanged (fastPath.ts). No capture groups: only the
 * match is needed, and the day is then read from fixed positions.
 */
const ISO_DATE_TIME = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** Days in each month of a common year; February's 29th is checked against the year. */
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const digit = (text: string, at: number) => text.charCodeAt(at) - 48;

/**
 * A date that exists: the pattern alone passes 2024-02-30, which the DateTime scalar would shift
 * to March 1st and the fast path would print as sent. Days up to the 28th exist in every month,
 * so nearly every date is settled by the pattern and one comparison.
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
const isVisitorsInfo = ajv.compile<VisitorsInfoResponse>(
  object({ success: { const: true }, visitor: VISITOR }, ['success', 'visitor']),
);

/** Turns one visitors.info answer into a visitor or the catalogue error for it. */
export function parseVisitorsInfo(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
): WireVisitor {
  if (status !== 200) throw errorFromResponse(status, body as WireErrorBody | undefined, headers);
  if (body && typeof body === 'object' && (body as WireErrorBody).success === false) {
    throw errorFromResponse(200, body as WireErrorBody, headers);
  }
  if (!isVisitorsInfo(body)) throw badResponse(status, shapeError(isVisitorsInfo.errors?.[0]));
  return body.visitor;
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
