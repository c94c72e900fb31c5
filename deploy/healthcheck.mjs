// Container health check: GET /readyz (or the path given as the first argument) on the address the process listens on (HOST/PORT), so it
// works whether the process binds 0.0.0.0 or one address (hostNetwork media and SIP pods).
const rawHost = process.env.HOST ?? '0.0.0.0';
const host = rawHost === '0.0.0.0' ? '127.0.0.1' : rawHost === '::' ? '[::1]' : rawHost.includes(':') ? `[${rawHost}]` : rawHost;
const port = process.env.PORT ?? '3000';
try {
  // Ready, not merely alive: compose's `service_healthy` waits for a process that can serve
  // (Redis reachable, a live worker, not draining).
  const path = process.argv[2] ?? '/readyz';
  const res = await fetch(`http://${host}:${port}${path}`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
