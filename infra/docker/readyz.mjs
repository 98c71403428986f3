// Container healthcheck: exits 0 when the app on the given port answers /readyz with 2xx.
// The slim runtime image has no curl or wget; node is always there.
const port = process.argv[2] ?? '3000';
try {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2500) });
  process.exit(response.ok ? 0 : 1);
} catch {
  process.exit(1);
}
