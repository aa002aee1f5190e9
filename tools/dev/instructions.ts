import { isAbsolute, relative } from 'node:path';
import type { SandboxState } from './sandbox-state';

export interface InstructionFacts {
  readonly state: SandboxState;
  /** Discovered token endpoint (for the curl token step). */
  readonly tokenEndpoint: string;
  readonly terminatorDescription: string;
  readonly datasets: readonly string[];
  /** ib1: the datasets anyone may read (listed without a certificate). */
  readonly openDatasets?: readonly string[];
  /** Paths inside this folder (where the user runs npm) are printed relative to it. */
  readonly cwd: string;
  /** Set when the state folder is not the default one: the CLIs need `--sandbox-dir`. */
  readonly stateDirFlag?: string;
}

/** The banner printed once the sandbox is ready: URL and copy-paste commands. */
export function sandboxInstructions(facts: InstructionFacts): string {
  const { state } = facts;
  const rel = (file: string): string => {
    const path = relative(facts.cwd, file);
    return path.startsWith('..') || isAbsolute(path) ? file : path;
  };
  const dirFlag = facts.stateDirFlag ? ` --sandbox-dir ${rel(facts.stateDirFlag)}` : '';
  const tls = `--cert ${rel(state.consumer.certFile)} --key ${rel(state.consumer.keyFile)} --cacert ${rel(state.consumer.caFile)}`;
  const example = facts.datasets[0] ?? 'carbon-intensity';
  const scope = state.consumer.scope ? ` -d scope=${state.consumer.scope}` : '';
  if (state.profile === 'ib1') return ib1Instructions(facts, rel, dirFlag, tls);
  return `
Provider sandbox is ready.
  URL        ${state.url}
  issuer     ${state.issuer}
  terminator ${facts.terminatorDescription}
  datasets   ${facts.datasets.join(', ')}

With the client CLI:
  npm run client -- list${dirFlag}
  npm run client -- get ${example} -o ${example}.csv${dirFlag}
  npm run verify${dirFlag ? ` --${dirFlag}` : ''}

With curl (client_credentials with mTLS client authentication, then the dataset):
  TOKEN=$(curl -s ${tls} \\
    -d grant_type=client_credentials -d client_id=${state.consumer.clientId}${scope} \\
    ${facts.tokenEndpoint} | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  curl ${tls} -H "Authorization: Bearer $TOKEN" ${state.url}${example}

Press Ctrl-C to stop.
`;
}

/** The ib1 banner: the consumer is a Directory URL, open data needs nothing, the heartbeat. */
function ib1Instructions(facts: InstructionFacts, rel: (file: string) => string, dirFlag: string, tls: string): string {
  const { state } = facts;
  const open = facts.openDatasets ?? [];
  const shared = facts.datasets.find((name) => !open.includes(name)) ?? facts.datasets[0] ?? 'half-hourly-consumption';
  const openExample = open[0];
  return `
Provider sandbox is ready (profile ib1: IB1 Trust Framework).
  URL        ${state.url}
  issuer     ${state.issuer}   (RFC 8414: ${state.issuer}/.well-known/oauth-authorization-server)
  terminator ${facts.terminatorDescription}
  consumer   ${state.consumer.clientId}
             (its certificate's Directory URL: the client_id; ECDSA P-256, ib1Roles in ${rel(state.consumer.certFile)})
  licence    ${state.consumer.scope}   (the scope of its tokens)
  datasets   ${facts.datasets.map((name) => (open.includes(name) ? `${name} (open)` : name)).join(', ')}

With the client CLI (JWT access tokens, client_id = the Directory URL):
  npm run client -- list${dirFlag}
  npm run client -- get ${shared} -o ${shared}.csv${dirFlag}
  npm run verify${dirFlag ? ` --${dirFlag}` : ''}
${openExample ? `
Open data, no certificate and no token:
  curl --cacert ${rel(state.consumer.caFile)} ${state.url}${openExample}
` : ''}
With curl (client_credentials with mTLS client authentication, then the dataset):
  TOKEN=$(curl -s ${tls} \\
    -d grant_type=client_credentials --data-urlencode client_id=${state.consumer.clientId} \\
    --data-urlencode scope=${state.consumer.scope} \\
    ${facts.tokenEndpoint} | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  curl ${tls} -H "Authorization: Bearer $TOKEN" ${state.url}${shared}
  curl ${tls} -H "Authorization: Bearer $TOKEN" ${state.url}${(state.heartbeatPath ?? '/heartbeat').replace(/^\//, '')}

Press Ctrl-C to stop.
`;
}
