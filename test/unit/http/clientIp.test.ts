import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientIp } from '../../../src/http/clientIp.js';

function req(headers: IncomingHttpHeaders, remoteAddress: string | undefined): IncomingMessage {
  return { headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

describe('clientIp', () => {
  describe('with no trusted proxy', () => {
    it('takes the socket address', () => {
      expect(clientIp(req({}, '203.0.113.7'), false)).toBe('203.0.113.7');
    });

    it('unwraps an IPv4-mapped IPv6 address', () => {
      expect(clientIp(req({}, '::ffff:10.0.0.1'), false)).toBe('10.0.0.1');
    });

    it('keeps a real IPv6 address as it is', () => {
      expect(clientIp(req({}, '2001:db8::1'), false)).toBe('2001:db8::1');
      expect(clientIp(req({}, '::1'), false)).toBe('::1');
    });

    it('does not unwrap a ::ffff: prefix that is not followed by an IPv4 address', () => {
      expect(clientIp(req({}, '::ffff:abcd'), false)).toBe('::ffff:abcd');
    });

    it('ignores X-Real-IP and X-Forwarded-For sent by the caller', () => {
      const r = req({ 'x-real-ip': '1.2.3.4', 'x-forwarded-for': '5.6.7.8, 9.9.9.9' }, '::ffff:10.0.0.1');
      expect(clientIp(r, false)).toBe('10.0.0.1');
    });

    it('answers undefined when the socket has no address', () => {
      expect(clientIp(req({ 'x-real-ip': '1.2.3.4' }, undefined), false)).toBeUndefined();
    });
  });

  describe('behind a trusted proxy', () => {
    it("takes the proxy's X-Real-IP", () => {
      const r = req({ 'x-real-ip': '198.51.100.4', 'x-forwarded-for': '1.1.1.1, 2.2.2.2' }, '10.0.0.2');
      expect(clientIp(r, true)).toBe('198.51.100.4');
    });

    it('trims X-Real-IP and accepts IPv6', () => {
      expect(clientIp(req({ 'x-real-ip': '  198.51.100.4 ' }, '10.0.0.2'), true)).toBe('198.51.100.4');
      expect(clientIp(req({ 'x-real-ip': '2001:db8::42' }, '10.0.0.2'), true)).toBe('2001:db8::42');
    });

    it('falls back to the LAST X-Forwarded-For hop when X-Real-IP is absent', () => {
      const r = req({ 'x-forwarded-for': '6.6.6.6, 192.0.2.10,  198.51.100.9 ' }, '10.0.0.2');
      expect(clientIp(r, true)).toBe('198.51.100.9');
    });

    it('falls back to the last hop when X-Real-IP is not an IP address', () => {
      const r = req({ 'x-real-ip': 'evil.example', 'x-forwarded-for': '6.6.6.6, 198.51.100.9' }, '10.0.0.2');
      expect(clientIp(r, true)).toBe('198.51.100.9');
    });

    it('joins repeated X-Forwarded-For headers and takes the last hop of the last one', () => {
      const r = req({ 'x-forwarded-for': ['6.6.6.6', '7.7.7.7, 198.51.100.9'] } as IncomingHttpHeaders, '10.0.0.2');
      expect(clientIp(r, true)).toBe('198.51.100.9');
    });

    it('falls back to the socket when the last hop is not an IP address', () => {
      const r = req({ 'x-forwarded-for': '198.51.100.9, not-an-ip' }, '::ffff:10.0.0.2');
      expect(clientIp(r, true)).toBe('10.0.0.2');
    });

    it('falls back to the socket when the last hop is empty', () => {
      expect(clientIp(req({ 'x-forwarded-for': '198.51.100.9, ' }, '10.0.0.2'), true)).toBe('10.0.0.2');
      expect(clientIp(req({ 'x-forwarded-for': '' }, '10.0.0.2'), true)).toBe('10.0.0.2');
    });

    it('falls back to the socket when both headers are invalid', () => {
      const r = req({ 'x-real-ip': '999.1.1.1', 'x-forwarded-for': 'unknown' }, '::ffff:10.0.0.3');
      expect(clientIp(r, true)).toBe('10.0.0.3');
    });

    it('falls back to the socket when the proxy sent neither header', () => {
      expect(clientIp(req({}, '::ffff:10.0.0.4'), true)).toBe('10.0.0.4');
    });
  });
});
