/**
 * `node resolve-ipv4.js --server HOST:PORT NAME` prints NAME's IPv4 addresses
 * as answered by that DNS server (pebble-challtestsrv in the replica) — the
 * replica's PH_RESOLVE_CMD, where production uses `getent ahostsv4`.
 */
import { Resolver } from 'node:dns/promises';

async function main(argv: readonly string[]): Promise<number> {
  const serverIndex = argv.indexOf('--server');
  const server = serverIndex >= 0 ? argv[serverIndex + 1] : undefined;
  const name = argv.filter((_arg, i) => i !== serverIndex && i !== serverIndex + 1)[0];
  if (!server || !name) {
    process.stderr.write('usage: resolve-ipv4 --server HOST:PORT NAME\n');
    return 2;
  }
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([server]);
  try {
    for (const address of await resolver.resolve4(name)) process.stdout.write(`${address}\n`);
    return 0;
  } catch {
    return 2;
  }
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code));
