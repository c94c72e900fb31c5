// Container health check: GET /healthz on the address the process listens on (HOST/PORT), so it
// works whether the process binds 0.0.0.0 or one address (hostNetwork media and SIP pods).
const rawHost = process.env.HOST ?? '0.0.0.0';
const host = rawHost === '0.0.0.0' ? '127.0.0.1' : rawHost === '::' ? '[::1]' : rawHost.includes(':') ? `[${rawHost}]` : rawHost;
const port = process.env.PORT ?? '3000';
try {
  const res = await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(2500) });
  const body = await res.json().catch(() => ({}));
  process.exit(res.ok && body.status === 'ok' ? 0 : 1);
} catch {
  process.exit(1);
}
