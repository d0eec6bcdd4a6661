/**
 * Who may talk to the server: the bearer token (a cookie for the page), the Host header on a loopback bind (against
 * DNS rebinding), the Origin of state-changing requests (against CSRF), and the headers every answer carries.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { decodeSegment, HttpError } from './http.js';

export const COOKIE = 'videoshop_token';

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    // A malformed %-escape is no token (401), never a 500.
    if (k === COOKIE) return decodeSegment(v.join('='));
  }
  return undefined;
}

/** Whether the request carries the token (always true without one). */
export function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ') && sameSecret(auth.slice(7).trim(), token)) return true;
  const cookie = cookieToken(req);
  return cookie !== undefined && sameSecret(cookie, token);
}

/** Loopback binds answer only to loopback names: a web page cannot reach them by rebinding its own name. */
export function checkHost(req: IncomingMessage, loopbackOnly: boolean): void {
  if (!loopbackOnly) return;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (!isLoopbackHost(host)) throw new HttpError(421, `this server answers only to localhost/127.0.0.1, not to "${host}"`);
}

/** State-changing requests must come from the page itself (or from a client that sends no Origin, like curl). */
export function checkOrigin(req: IncomingMessage): void {
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return;
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  if (origin !== undefined) {
    if (origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`) {
      throw new HttpError(403, `cross-origin request refused (Origin ${origin})`);
    }
  } else if (site === 'cross-site' || site === 'same-site') {
    throw new HttpError(403, 'cross-site request refused');
  }
}

export function setSecurityHeaders(res: ServerResponse): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
}
