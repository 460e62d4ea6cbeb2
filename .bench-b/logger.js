import { pino } from 'pino';
/**
 * Structured JSON logs. Credentials must never reach a log line: the redact list removes them
 * wherever a header object is logged, as a second fence behind never logging them at all.
 */
export function createLogger(level, destination) {
    return pino({
        level,
        base: { service: 'livechat-visitor-gateway' },
        redact: {
            paths: [
                'headers["x-auth-token"]',
                'headers["x-user-id"]',
                'headers.authorization',
                'headers.cookie',
                'req.headers["x-auth-token"]',
                'req.headers.authorization',
                'req.headers.cookie',
                'credentials',
                'authToken',
                '*.authToken',
            ],
            censor: '[redacted]',
        },
    }, destination);
}
//# sourceMappingURL=logger.js.map