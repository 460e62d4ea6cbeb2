import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * The caller's address, for `X-Real-IP` upstream (Rocket.Chat rate-limits per client IP). Taken from
 * the socket; behind a trusted proxy (TRUST_PROXY), from what that proxy reports: its `X-Real-IP`, or
 * the last `X-Forwarded-For` hop, which is the one it appended. Never a value a caller could forge
 * when no proxy is trusted.
 */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const real = req.headers['x-real-ip'];
    if (typeof real === 'string' && isIP(real.trim())) return real.trim();
    const forwarded = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',');
    const last = hops[hops.length - 1]?.trim();
    if (last && isIP(last)) return last;
  }
  return normalise(req.socket.remoteAddress);
}

/** `::ffff:127.0.0.1` is how a dual-stack socket shows an IPv4 peer; Rocket.Chat expects the IPv4 form. */
function normalise(address: string | undefined): string | undefined {
  if (!address) return undefined;
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
