import { isAbsolute, relative } from 'node:path';
import type { SandboxState } from './sandbox-state';

export interface InstructionFacts {
  readonly state: SandboxState;
  /** Discovered token endpoint (for the curl token step). */
  readonly tokenEndpoint: string;
  readonly terminatorDescription: string;
  readonly datasets: readonly string[];
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
