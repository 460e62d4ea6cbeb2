import { VisitorsAPI } from './rocketchat/VisitorsAPI.js';
/** Visible ASCII only: no control characters (header injection), no spaces, nothing over 512. */
const CREDENTIAL_PATTERN = /^[\x21-\x7e]{1,512}$/;
/** Reads the caller's credentials once; a refusal is kept and answered per field, without an upstream call. */
export function readCredentials(headers) {
    const authToken = headers['x-auth-token'];
    const userId = headers['x-user-id'];
    if (authToken === undefined || userId === undefined || authToken === '' || userId === '') {
        return { refused: 'missing X-Auth-Token or X-User-Id' };
    }
    if (typeof authToken !== 'string' || typeof userId !== 'string') {
        return { refused: 'X-Auth-Token and X-User-Id must be sent once each' };
    }
    if (!CREDENTIAL_PATTERN.test(authToken) || !CREDENTIAL_PATTERN.test(userId)) {
        return { refused: 'X-Auth-Token and X-User-Id must be 1 to 512 visible ASCII characters' };
    }
    return { authToken, userId };
}
export function createContext(deps, call) {
    let log;
    return {
        requestId: call.requestId,
        // Made on first use: most operations log one line, and a child logger per request adds up.
        get log() {
            return (log ??= deps.log.child({ requestId: call.requestId }));
        },
        logs: (level) => deps.log.isLevelEnabled(level),
        visitors: new VisitorsAPI({
            client: deps.client,
            credentials: readCredentials(call.headers),
            requestId: call.requestId,
            clientIp: call.clientIp,
            cancellation: call.cancellation,
            concurrency: deps.config.upstream.concurrencyPerRequest,
            maxIds: deps.config.maxIds,
            onBatch: deps.onBatch,
        }),
    };
}
//# sourceMappingURL=context.js.map