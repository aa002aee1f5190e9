/**
 * `npm run replica`: the EC2 host on this machine, as `npm run e2e` builds it — the
 * real setup.sh with pebble, certbot, nginx, PM2, the app and the authorization
 * server, serving sample-data/ — kept running for you to call, until Ctrl-C, which
 * stops all of it (signals.ts) and exits 130. As root, on Debian with the packages
 * of .ci/run.
 */
import { writeFileSync } from 'node:fs';
import { REPLICA_SCOPE, sampleDatasets, startProviderReplica } from './provider-replica';
import { hostProcess, interrupted } from './signals';

async function main(): Promise<void> {
  const provider = await startProviderReplica({
    datasets: sampleDatasets(),
    publicFiles: { 'robots.txt': 'User-agent: *\nDisallow: /\n' },
  });
  const { replica, pki, authz } = provider;
  // One CA file for both servers: the site's (pebble's root) and the authorization server's.
  const ca = replica.path('pki', 'servers-ca.pem');
  writeFileSync(ca, `${provider.siteCaPem.trim()}\n${pki.rootCa.certPem.trim()}\n`);
  const url = `https://${replica.domain}:${replica.httpsPort}/`;
  const identity = [
    `--url ${url}`,
    `--resolve ${replica.domain}:127.0.0.1`,
    `--issuer ${authz.issuer}`,
    '--client-id consumer',
    `--scope ${REPLICA_SCOPE}`,
    `--cert ${pki.files['consumer.chain.crt']}`,
    `--key ${pki.files['consumer.key']}`,
    `--ca ${ca}`,
  ].join(' ');
  process.stdout.write(
    [
      '',
      'The replica host is ready (setup.sh complete).',
      `  URL        ${url} (${replica.domain} is 127.0.0.1)`,
      `  root       ${replica.root}`,
      `  app user   ${replica.appUser}`,
      `  nginx log  ${replica.path('var', 'log', 'nginx', 'access.json.log')}`,
      '',
      'As the consumer:',
      `  npm run client -- list ${identity}`,
      `  npm run client -- get half-hourly-consumption -o half-hourly-consumption.csv ${identity}`,
      '',
      'Press Ctrl-C to stop it.',
      '',
    ].join('\n'),
  );
  await new Promise<never>(() => undefined);
}

main().catch((error: unknown) => {
  process.stderr.write(`replica: ${(error as Error).message}\n`);
  // Interrupted: the signal handler exits (130/143) once the replica has stopped.
  if (!interrupted()) hostProcess().exit(1);
});
