import { createServer } from 'node:net';

/**
 * The listen address nginx gets for its IPv6 line: `[::1]:port` where the
 * machine has IPv6 loopback, else a second IPv4 loopback address (some CI
 * containers run without IPv6). The site templates always carry both lines.
 */
export async function secondLoopbackListen(port: number): Promise<string> {
  const hasIpv6 = await new Promise<boolean>((resolveProbe) => {
    const probe = createServer();
    probe.once('error', () => resolveProbe(false));
    probe.listen(0, '::1', () => probe.close(() => resolveProbe(true)));
  });
  return hasIpv6 ? `[::1]:${port}` : `127.0.0.2:${port}`;
}
