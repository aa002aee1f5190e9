/**
 * A stand-in for the EC2 instance metadata service that speaks IMDSv2 only:
 * metadata is answered only with a token obtained by PUT /latest/api/token,
 * as on an instance with `http_tokens = required`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/** The instance role the stand-in names at /latest/meta-data/iam/security-credentials/. */
export const IMDS_ROLE_NAME = 'provider-host-role';

export interface ImdsStandin {
  readonly url: string;
  /** Requests refused for lack of a valid token (an IMDSv1 call would count here). */
  readonly refused: () => number;
  readonly tokensIssued: () => number;
  /** What public-ipv4 answers from now on; undefined: 404, as on an instance without one. */
  setPublicIpv4(address: string | undefined): void;
  stop(): Promise<void>;
}

export interface ImdsListen {
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
}

/**
 * Starts the stand-in. `listen` puts it where the real service is
 * (169.254.169.254:80 inside a network namespace: test/e2e/hardening-host.e2e.test.ts).
 */
export async function startImdsStandin(initialPublicIpv4: string | undefined, listen: ImdsListen = {}): Promise<ImdsStandin> {
  let publicIpv4 = initialPublicIpv4;
  const tokens = new Set<string>();
  let refused = 0;
  const server: Server = createServer((req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token' && req.headers['x-aws-ec2-metadata-token-ttl-seconds']) {
      const token = randomBytes(16).toString('hex');
      tokens.add(token);
      res.end(token);
      return;
    }
    if (!tokens.has(String(req.headers['x-aws-ec2-metadata-token'] ?? ''))) {
      refused += 1;
      res.writeHead(401).end();
      return;
    }
    if (req.method === 'GET' && req.url === '/latest/meta-data/iam/security-credentials/') {
      res.end(IMDS_ROLE_NAME);
      return;
    }
    if (req.method === 'GET' && req.url === '/latest/meta-data/public-ipv4' && publicIpv4 !== undefined) {
      res.end(publicIpv4);
      return;
    }
    res.writeHead(404).end();
  });
  const host = listen.host ?? '127.0.0.1';
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(listen.port ?? 0, host, resolveListen);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    refused: () => refused,
    tokensIssued: () => tokens.size,
    setPublicIpv4: (address) => {
      publicIpv4 = address;
    },
    stop: () => new Promise((resolveClose) => server.close(() => resolveClose())),
  };
}
