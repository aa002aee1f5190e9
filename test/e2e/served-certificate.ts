import { connect, type PeerCertificate } from 'node:tls';

/** The certificate nginx serves for `servername` (verified against `ca`). */
export function servedCertificate(port: number, servername: string, ca: string, cert: string, key: string): Promise<PeerCertificate> {
  return new Promise((resolveCert, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca, cert, key }, () => {
      const peer = socket.getPeerCertificate();
      socket.end();
      resolveCert(peer);
    });
    socket.on('error', reject);
  });
}
