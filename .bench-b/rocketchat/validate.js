import { Ajv } from 'ajv';
import { badResponse, errorFromResponse } from '../errors.js';
/**
 * The shape check between Rocket.Chat and the resolvers: what passes here is safe to map field by
 * field. Objects stay open so that fields a newer server adds never fail a query; `status` stays
 * a plain string so that an unknown value is a warning (Visitor.ts), not an error.
 *
 * A JSON Schema compiled once by Ajv: it checks the parsed body in place, where a schema library
 * that copies every object on the way through cost more per visitor than the rest of the upstream
 * call's own work (it runs once per visitor, 50 times for a full `visitors(ids)`).
 */
/** RFC 3339 with an offset, fields in range; DateTime serialises these unchanged (fastPath.ts). */
const ISO_DATE_TIME = '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d+)?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)$';
const string = { type: 'string' };
const date = { type: 'string', pattern: ISO_DATE_TIME };
const object = (properties, required = []) => ({ type: 'object', properties, required });
const arrayOf = (items) => ({ type: 'array', items });
const record = { type: 'object' };
const email = object({ address: string }, ['address']);
const VISITOR = object({
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
}, ['_id']);
const isVisitorsInfo = new Ajv({ allErrors: false }).compile(object({ success: { const: true }, visitor: VISITOR }, ['success', 'visitor']));
/** Turns one visitors.info answer into a visitor or the catalogue error for it. */
export function parseVisitorsInfo(status, headers, body) {
    if (status !== 200)
        throw errorFromResponse(status, body, headers);
    if (body && typeof body === 'object' && body.success === false) {
        throw errorFromResponse(200, body, headers);
    }
    if (!isVisitorsInfo(body))
        throw badResponse(status, `unexpected shape at ${where(isVisitorsInfo.errors?.[0])}`);
    return body.visitor;
}
/** `visitor.phone.0.phoneNumber`: the path only, never the offending value. */
function where(error) {
    if (!error)
        return 'body';
    const path = error.instancePath.split('/').slice(1);
    if (error.keyword === 'required')
        path.push(String(error.params.missingProperty));
    return path.join('.') || 'body';
}
//# sourceMappingURL=validate.js.map