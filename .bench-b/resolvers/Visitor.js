/** Wire → schema renames. Fields with the same name on both sides resolve by default. */
export const Visitor = {
    id: (v) => v._id,
    status: (v, _args, context) => visitorStatus(v.status, v._id, context),
    createdAt: (v) => v.ts ?? null,
    updatedAt: (v) => v._updatedAt ?? null,
    departmentId: (v) => v.department ?? null,
    phones: (v) => v.phone ?? [],
    emails: (v) => v.visitorEmails ?? [],
    customFields: (v) => v.livechatData ?? null,
    externalIds: (v) => v.externalIds ?? [],
    activity: (v) => v.activity ?? [],
};
export const VisitorLastChat = {
    id: (c) => c._id,
    startedAt: (c) => c.ts ?? null,
};
export const VisitorLastAgent = {
    assignedAt: (a) => a.ts ?? null,
};
export const VisitorContactManager = {
    id: (m) => m._id ?? null,
    emails: (m) => m.emails ?? [],
};
const STATUSES = {
    online: 'ONLINE',
    away: 'AWAY',
    busy: 'BUSY',
    offline: 'OFFLINE',
    disabled: 'DISABLED',
};
/**
 * A status from a newer Rocket.Chat must not fail a whole query: null, and a warning for the operator.
 * The context's logger is touched only then: it is made on first use, and most requests never need it.
 */
function visitorStatus(status, visitorId, context) {
    if (status === undefined)
        return null;
    const known = STATUSES[status];
    if (!known)
        context.log.warn({ status, visitorId }, 'unknown visitor status from Rocket.Chat; answered null');
    return known ?? null;
}
//# sourceMappingURL=Visitor.js.map