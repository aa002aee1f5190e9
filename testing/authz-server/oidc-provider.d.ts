/**
 * The slice of oidc-provider 9's API this project uses (the package ships no types).
 * Kept deliberately narrow: configuration is passed as a plain object and checked by
 * oidc-provider itself at construction time.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface KoaContextLike {
    readonly req: IncomingMessage;
    readonly socket: import('node:net').Socket;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
