export class BodyTooLargeError extends Error {
}
/** Reads a request body, giving up as soon as it passes `limit` bytes so a huge upload costs nothing. */
export function readBody(req, limit) {
    const declared = Number(req.headers['content-length']);
    if (declared > limit)
        return Promise.reject(new BodyTooLargeError());
    return new Promise((resolve, reject) => {
        const chunks = [];
        let size = 0;
        req.on('data', (chunk) => {
            size += chunk.length;
            if (size > limit) {
                req.removeAllListeners('data');
                req.resume();
                reject(new BodyTooLargeError());
                return;
            }
            chunks.push(chunk);
        });
        req.on('end', () => resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')));
        req.on('error', reject);
    });
}
//# sourceMappingURL=body.js.map