/**
 * pebble (Let's Encrypt's ACME test server) with pebble-challtestsrv as its DNS:
 * every name resolves to 127.0.0.1, and pebble validates HTTP-01 challenges on
 * `httpPort` — the replica nginx's port 80 stand-in.
 */
import { writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { waitFor } from '../../lib/child-process';
import { freePort } from '../../lib/ports';
import { createRootCa, issueServerCert } from '../pki';
import type { ChildProcesses } from './child-processes';

export interface AcmeServer {
  /** ACME directory URL for certbot's --server. */
  readonly directoryUrl: string;
  /** CA of pebble's own HTTPS endpoint (REQUESTS_CA_BUNDLE for certbot). */
  readonly tlsCaFile: string;
  /** challtestsrv's DNS, `127.0.0.1:PORT`. */
  readonly dnsServer: string;
  /** challtestsrv's management API (set-txt, clear-txt): the Route53 stand-in forwards TXT records there. */
  readonly dnsManagementUrl: string;
  /** The root that signs the certificates pebble issues (it changes at every start). */
  issuingRootPem(): Promise<string>;
}

export interface AcmeServerOptions {
  /** Lifetime of the certificates pebble issues (its certificateValidityPeriod), e.g. a directory's 24 hours. @default pebble's (5 years) */
  readonly certificateValiditySeconds?: number;
}

export async function startAcmeServer(processes: ChildProcesses, dir: string, httpPort: number, options: AcmeServerOptions = {}): Promise<AcmeServer> {
  const tlsCa = createRootCa({ subject: { commonName: 'replica pebble TLS CA' } });
  const tls = issueServerCert(tlsCa, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const tlsCaFile = join(dir, 'pebble-tls-ca.pem');
  writeFileSync(tlsCaFile, tlsCa.certPem);
  writeFileSync(join(dir, 'pebble.crt'), tls.chainPem);
  writeFileSync(join(dir, 'pebble.key'), tls.keyPem, { mode: 0o600 });

  const [acmePort, managementPort, dnsPort, challManagementPort, tlsPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const dnsServer = `127.0.0.1:${dnsPort}`;
  processes.spawn(
    'pebble-challtestsrv',
    'pebble-challtestsrv',
    ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', dnsServer, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challManagementPort}`],
    { logFile: join(dir, 'challtestsrv.log') },
  );
  const config = join(dir, 'pebble-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: join(dir, 'pebble.crt'),
        privateKey: join(dir, 'pebble.key'),
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        ...(options.certificateValiditySeconds !== undefined ? { certificateValidityPeriod: options.certificateValiditySeconds } : {}),
      },
    }),
  );
  processes.spawn('pebble', 'pebble', ['-config', config, '-dnsserver', dnsServer], {
    logFile: join(dir, 'pebble.log'),
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  });

  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  await waitFor('pebble to answer its directory', async () => ((await fetchText(directoryUrl, tlsCa.certPem)) ? true : undefined), 20000, 100);
  return {
    directoryUrl,
    tlsCaFile,
    dnsServer,
    dnsManagementUrl: `http://127.0.0.1:${challManagementPort}`,
    issuingRootPem: async () => {
      const pem = await fetchText(`https://127.0.0.1:${managementPort}/roots/0`, tlsCa.certPem);
      if (!pem) throw new Error('pebble did not return its issuing root');
      return pem;
    },
  };
}

function fetchText(url: string, ca: string): Promise<string | undefined> {
  return new Promise((resolveText) => {
    const req = get(url, { ca, timeout: 2000 }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolveText(res.statusCode === 200 ? text : undefined));
    });
    req.on('error', () => resolveText(undefined));
    req.on('timeout', () => req.destroy());
  });
}
