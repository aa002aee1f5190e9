import type { TerminatorKind } from './sandbox-state';

/** What a TLS terminator in front of the app needs; file paths are absolute. */
export interface TerminatorOptions {
  readonly listenHost: string;
  /** 0 = any free port. */
  readonly port: number;
  /** Server certificate chain (leaf + intermediate) and key, for `localhost`. */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** The ONLY CAs accepted for client certificates. */
  readonly clientCaFile: string;
  /** The app's UNIX socket. */
  readonly appSocket: string;
  /** Datasets folder (nginx serves X-Accel-Redirect answers from it). */
  readonly datasetsDir: string;
  /** `nginx/errors/`: the JSON error pages both terminators answer with. */
  readonly errorPagesDir: string;
  /** A private folder for the terminator's own files (nginx prefix, logs). */
  readonly workDir: string;
  /** The CAs' CRLs (PEM): revoked client certificates are refused, as on the host. */
  readonly crlFile?: string;
  /** The trust framework profile of the site (nginx only). @default 'open-energy' */
  readonly trustProfile?: 'open-energy' | 'ib1';
  /** ib1: the heartbeat path. */
  readonly heartbeatPath?: string;
}

export interface Terminator {
  readonly kind: TerminatorKind;
  readonly port: number;
  /** Processes it started (none for the in-process Node terminator). */
  readonly pids: Readonly<Record<string, number>>;
  /** One line for the banner: what runs, where. */
  readonly description: string;
  /** For a terminator in its own process: resolves with a reason when that process exits. */
  readonly exited?: Promise<string>;
  stop(): Promise<void>;
}
