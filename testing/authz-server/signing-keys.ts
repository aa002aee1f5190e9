/**
 * The authorization server's JWT signing keys, and which of them its `jwks_uri` lists.
 *
 * A key is generated in memory (never written anywhere), signs from the moment it is added,
 * and stays out of the published JWKS until `publishAll()`: exactly the window a resource
 * server sees during a rotation — a token whose `kid` it has never seen — which tests need
 * to provoke on demand, then close.
 */
import { generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';

interface SigningKey {
  readonly kid: string;
  /** Private JWK (oidc-provider's keystore needs it). */
  readonly jwk: JsonWebKey;
  published: boolean;
}

export class SigningKeys {
  private readonly keys: SigningKey[] = [];

  constructor() {
    this.add({ published: true });
  }

  /** A new ES256 key, first in the keystore (it signs from now on); listed only if `published`. */
  add(options: { published: boolean }): string {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const kid = `es256-${randomBytes(6).toString('hex')}`;
    this.keys.unshift({ kid, jwk, published: options.published });
    return kid;
  }

  publishAll(): void {
    for (const key of this.keys) key.published = true;
  }

  /** The kid that signs new tokens. */
  get signingKid(): string {
    return this.keys[0]!.kid;
  }

  /** oidc-provider's `jwks` configuration: every key, private parts included. */
  keystore(): { keys: Record<string, unknown>[] } {
    return { keys: this.keys.map((key) => ({ ...key.jwk, kid: key.kid, use: 'sig', alg: 'ES256' })) };
  }

  /** What `jwks_uri` answers: the published keys' public parts only. */
  publicJwks(): { keys: Record<string, unknown>[] } {
    return {
      keys: this.keys
        .filter((key) => key.published)
        .map(({ kid, jwk }) => ({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, use: 'sig', alg: 'ES256' })),
    };
  }
}
