import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * The content security policy the web client and /docs (swagger-ui) run under: everything
 * from our own origin, nothing inline, no plugins, no framing. `connect-src 'self'` covers the
 * socket.io WebSocket on the same origin; blob: and data: images are slide pages and
 * swagger-ui's icons. No `upgrade-insecure-requests`: the embedded mode serves plain HTTP.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  mediaSrc: ["'self'", 'blob:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
};

/** Security headers on every HTTP answer: CSP, X-Frame-Options DENY, nosniff and the rest of helmet's set. */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    frameguard: { action: 'deny' },
    // Subdomains are the operator's business; HSTS only matters (and only counts) over HTTPS.
    strictTransportSecurity: { maxAge: 180 * 24 * 3600, includeSubDomains: false },
  });
}

/** The policy for swagger-ui's pages: the same, plus inline styles, which it injects. */
export function docsStyles(header: string): string {
  return header.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");
}
