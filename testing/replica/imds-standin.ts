/**
 * A stand-in for the EC2 instance metadata service that speaks IMDSv2 only:
 * metadata is answered only with a token obtained by PUT /latest/api/token,
 * as on an instance with `http_tokens = required`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface ImdsStandin {
  readonly url: string;
  /** Requests refused for lack of a valid token (an IMDSv1 call would count here). */
  readonly refused: () => number;
  readonly tokensIssued: () => number;
  /** What public-ipv4 answers from now on; undefined: 404, as on an instance without one. */
  setPublicIpv4(address: string | undefined): void;
  stop(): Promise<void>;
}

export async function startImdsStandin(initialPublicIpv4: string | undefined): Promise<ImdsStandin> {
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
    if (req.method === 'GET' && req.url === '/latest/meta-data/public-ipv4' && publicIpv4 !== undefined) {
      res.end(publicIpv4);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    refused: () => refused,
    tokensIssued: () => tokens.size,
    setPublicIpv4: (address) => {
      publicIpv4 = address;
    },
    stop: () => new Promise((resolveClose) => server.close(() => resolveClose())),
  };
}
