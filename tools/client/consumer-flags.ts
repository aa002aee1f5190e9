import type { ParseArgsConfig } from 'node:util';
import type { ConsumerFlags } from './consumer-settings';
import { ClientError } from './errors';

/** The consumer-identity options shared by the client CLI and verify. */
export const CONSUMER_OPTIONS = {
  issuer: { type: 'string' },
  'client-id': { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  ca: { type: 'string' },
  scope: { type: 'string' },
  url: { type: 'string' },
  'token-cache': { type: 'string' },
  'sandbox-dir': { type: 'string' },
  timeout: { type: 'string' },
  resolve: { type: 'string', multiple: true },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const CONSUMER_OPTIONS_HELP = `Consumer identity (defaults: the running sandbox, \`npm run dev\`):
  --url <https url>       the data provider
  --issuer <url>          the authorization server (OIDC discovery base)
  --client-id <id>        the consumer's client id (IB1: default the Directory URL in --cert)
  --cert <file> --key <file>  client certificate and key (PEM)
  --ca <file>             CA bundle to trust for the servers (default: system roots)
  --scope <scope>         scope to ask for (IB1: the licence URL)
  --token-cache <file>    share tokens between runs (written 0600)
  --sandbox-dir <dir>     where the sandbox's state is (default: .dev)
  --timeout <seconds>     per request (default 30)
  --resolve <host>:<address>  connect to <address> for <host>, like curl --resolve (repeatable)`;

type Values = { [K in Exclude<keyof typeof CONSUMER_OPTIONS, 'resolve'>]?: string } & { resolve?: string[] };

export function toConsumerFlags(values: Values): ConsumerFlags {
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new ClientError(`--timeout must be a positive number of seconds, got "${values.timeout}".`);
    }
    timeoutMs = seconds * 1000;
  }
  const resolve: Record<string, string> = {};
  for (const pin of values.resolve ?? []) {
    const at = pin.indexOf(':');
    if (at <= 0 || at === pin.length - 1) {
      throw new ClientError(`--resolve expects <host>:<address>, got "${pin}".`, 'Example: --resolve provider.example.com:203.0.113.10');
    }
    resolve[pin.slice(0, at).toLowerCase()] = pin.slice(at + 1).replace(/^\[(.*)\]$/, '$1');
  }
  return {
    resolve: Object.keys(resolve).length > 0 ? resolve : undefined,
    issuer: values.issuer,
    clientId: values['client-id'],
    cert: values.cert,
    key: values.key,
    ca: values.ca,
    scope: values.scope,
    url: values.url,
    tokenCache: values['token-cache'],
    sandboxDir: values['sandbox-dir'],
    timeoutMs,
  };
}
