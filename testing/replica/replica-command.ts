/**
 * `npm run replica`: the EC2 host on this machine, as `npm run e2e` builds it — the
 * real setup.sh with pebble, certbot, nginx, PM2, the app and the authorization
 * server, serving sample-data/ — kept running for you to call, until Ctrl-C, which
 * stops all of it (signals.ts) and exits 130. As root, on Debian with the packages
 * of .ci/run. `-- --profile ib1` runs the ib1 profile (IB1 PKI, JWT access tokens, open
 * and role-gated datasets, heartbeat).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { IB1_SANDBOX } from '../pki/ib1-set';
import { REPLICA_SCOPE, sampleDatasets, startProviderReplica } from './provider-replica';
import { hostProcess, interrupted } from './signals';

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { profile: { type: 'string' } } });
  if (values.profile !== undefined && values.profile !== 'open-energy' && values.profile !== 'ib1') {
    throw new Error(`--profile must be open-energy or ib1, got "${values.profile}"`);
  }
  const ib1 = values.profile === 'ib1';
  const provider = await startProviderReplica({
    datasets: sampleDatasets(),
    publicFiles: { 'robots.txt': 'User-agent: *\nDisallow: /\n' },
    ...(ib1 ? { profile: 'ib1' as const, tokenValidation: 'jwt' as const } : {}),
  });
  const { replica, pki, authz } = provider;
  // One CA file for both servers: the site's (pebble's root) and the authorization server's.
  const ca = replica.path('pki', 'servers-ca.pem');
  writeFileSync(ca, `${provider.siteCaPem.trim()}\n${(provider.ib1?.set.serverCaBundlePem ?? pki.rootCa.certPem).trim()}\n`);
  const consumer = provider.ib1?.set.members.consumer;
  if (consumer) {
    writeFileSync(replica.path('pki', 'ib1-consumer.crt'), consumer.chainPem);
    writeFileSync(replica.path('pki', 'ib1-consumer.key'), consumer.keyPem, { mode: 0o600 });
  }
  const url = `https://${replica.domain}:${replica.httpsPort}/`;
  const identity = [
    `--url ${url}`,
    `--resolve ${replica.domain}:127.0.0.1`,
    `--issuer ${authz.issuer}`,
    // ib1: the client id is the certificate's Directory URL.
    ...(consumer ? [`--scope ${IB1_SANDBOX.licence}`] : ['--client-id consumer', `--scope ${REPLICA_SCOPE}`]),
    `--cert ${consumer ? replica.path('pki', 'ib1-consumer.crt') : pki.files['consumer.chain.crt']}`,
    `--key ${consumer ? replica.path('pki', 'ib1-consumer.key') : pki.files['consumer.key']}`,
    `--ca ${ca}`,
  ].join(' ');
  process.stdout.write(
    [
      '',
      `The replica host is ready (setup.sh complete, profile ${ib1 ? 'ib1' : 'open-energy'}).`,
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
