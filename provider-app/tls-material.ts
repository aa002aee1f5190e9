import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

/** The provider's transport certificate, key and extra CA, as given in the config. */
export interface TlsFiles {
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly tlsCa?: string;
}

/** The file contents; a file that could not be read is left out (reported elsewhere). */
export interface TlsContents {
  readonly tlsCert?: Buffer;
  readonly tlsKey?: Buffer;
  readonly tlsCa?: Buffer;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** OpenSSL's reason without its numeric prefix: "bad base64 decode". */
function reason(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  return message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/, '').trim() || message;
}

/** Problems with the PEM certificates in one file: none found, or one that does not parse. */
function certificateProblems(key: 'tlsCert' | 'tlsCa', file: string, pem: Buffer, fix: string): string[] {
  const blocks = pem.toString('utf8').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return [`config ${key}: ${file} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); ${fix}`];
  const problems: string[] = [];
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      problems.push(`config ${key}: ${file}: certificate ${index + 1} of ${blocks.length} cannot be parsed (${reason(error)}); ${fix}`);
    }
  });
  return problems;
}

/**
 * What start-up can find wrong in the TLS material beyond readability, one line per problem
 * (field, file, what is wrong, the fix): a certificate file with no or a broken PEM
 * certificate, a key that is not a usable unencrypted PEM private key, a key that does not
 * belong to the certificate, a CA file that is not PEM certificates (which Node's TLS would
 * silently ignore). Otherwise each introspection call would fail at run time, as 503s.
 */
export function tlsMaterialProblems(files: TlsFiles, contents: TlsContents): string[] {
  const problems: string[] = [];
  const certFix = "give the provider's transport certificate (its chain may follow) in PEM";
  const certOk = contents.tlsCert !== undefined && pushAll(problems, certificateProblems('tlsCert', files.tlsCert, contents.tlsCert, certFix));
  let keyOk = false;
  if (contents.tlsKey !== undefined) {
    try {
      createPrivateKey(contents.tlsKey);
      keyOk = true;
    } catch (error) {
      problems.push(`config tlsKey: ${files.tlsKey} is not a usable PEM private key (${reason(error)}); give the unencrypted PEM private key of tlsCert`);
    }
  }
  const caFix = "give the CA certificate(s) of the authorization server's TLS in PEM, or leave tlsCa out to trust the system roots only";
  const caOk = files.tlsCa !== undefined && contents.tlsCa !== undefined && pushAll(problems, certificateProblems('tlsCa', files.tlsCa, contents.tlsCa, caFix));
  if (certOk && keyOk) {
    // What the introspection client's https agent will build: catches a key that does not match the certificate.
    try {
      createSecureContext({ cert: contents.tlsCert, key: contents.tlsKey, ...(caOk ? { ca: contents.tlsCa } : {}) });
    } catch (error) {
      const mismatch = /key values mismatch/i.test((error as Error)?.message ?? '');
      problems.push(
        mismatch
          ? `config tlsKey: ${files.tlsKey} does not match the certificate in ${files.tlsCert}; give the private key tlsCert was issued for (or the certificate issued for this key)`
          : `config tlsCert: ${files.tlsCert} with tlsKey ${files.tlsKey}: TLS refuses them (${reason(error)}); give a PEM certificate and its matching private key`,
      );
    }
  }
  return problems;
}

/** Appends `more` to `problems`; true when there was nothing to append. */
function pushAll(problems: string[], more: readonly string[]): boolean {
  problems.push(...more);
  return more.length === 0;
}
