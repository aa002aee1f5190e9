import { canListen } from '../../lib/ports';

/**
 * The listen address nginx gets for its IPv6 line: `[::1]:port` where the
 * machine has IPv6 loopback, else a second IPv4 loopback address (some CI
 * containers run without IPv6). The site templates always carry both lines.
 */
export async function secondLoopbackListen(port: number): Promise<string> {
  return (await canListen('::1', 0)) ? `[::1]:${port}` : `127.0.0.2:${port}`;
}
