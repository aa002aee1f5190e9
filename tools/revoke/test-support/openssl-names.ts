/**
 * Certificates with tricky issuer names, and OpenSSL's own printing of them: the
 * reference issuer-dn.ts is held to. Two ways to get a name:
 *   - `opensslCertificate(subject)`: `openssl req -x509 -subj ...` — names as OpenSSL
 *     itself encodes them (a self-signed certificate: issuer = subject);
 *   - `withIssuer(pem, nameDer)`: that certificate with its issuer replaced by any DER
 *     (types and attributes `openssl req` will not write). The signature no longer
 *     verifies; printing a name does not look at it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';

/** Which string types `openssl req` picks (its config's string_mask). */
export type StringMask = 'utf8only' | 'pkix' | 'nombstr' | 'default';

function openssl(args: string[], input?: string): string {
  const run = spawnSync('openssl', args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  if (run.error) throw new Error(`openssl could not run (${run.error.message}); the tests need the openssl CLI`);
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${run.stderr.trim()}`);
  return run.stdout;
}

let scratch: string | undefined;
function scratchDir(): string {
  if (!scratch) {
    scratch = mkdtempSync(join(tmpdir(), 'issuer-dn-'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    writeFileSync(join(scratch, 'key.pem'), privateKey);
  }
  return scratch;
}

/** Removes the scratch folder (afterAll). */
export function removeScratch(): void {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

/**
 * A self-signed certificate for `subject` in `openssl req -subj` syntax: `/type=value`,
 * `+` between the members of a multi-valued RDN, `\` escaping a literal `/` or `+`.
 */
export function opensslCertificate(subject: string, mask: StringMask = 'utf8only'): string {
  const dir = scratchDir();
  const config = join(dir, `${mask}.cnf`);
  writeFileSync(config, `[req]\ndistinguished_name = dn\nstring_mask = ${mask}\n[dn]\n`);
  return openssl(['req', '-config', config, '-x509', '-new', '-key', join(dir, 'key.pem'), '-days', '1', '-utf8', '-subj', subject]);
}

/** What nginx's $ssl_client_i_dn would be: OpenSSL's RFC 2253 printing of the issuer. */
export function opensslIssuer(pem: string): string {
  return openssl(['x509', '-noout', '-issuer', '-nameopt', 'RFC2253'], pem).replace(/^issuer=/, '').replace(/\n$/, '');
}

// --- DER, as much as building a Name and swapping it into a certificate takes ---

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer | string): Buffer {
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(BigInt);
  const bytes: number[] = [];
  for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** One attribute: its OID and its value element (e.g. `tlv(0x0c, 'text')`). */
export const attribute = (type: string, value: Buffer): Buffer => tlv(0x30, Buffer.concat([oid(type), value]));
/** An RDN: a SET of attributes, in the order given (no DER sorting: the tests choose the order). */
export const rdn = (...attributes: Buffer[]): Buffer => tlv(0x31, Buffer.concat(attributes));
export const name = (...rdns: Buffer[]): Buffer => tlv(0x30, Buffer.concat(rdns));

function elements(content: Buffer): Buffer[] {
  const items: Buffer[] = [];
  let offset = 0;
  while (offset < content.length) {
    let len = content[offset + 1]!;
    let header = 2;
    if (len & 0x80) {
      const count = len & 0x7f;
      len = content.subarray(offset + 2, offset + 2 + count).reduce((v, b) => v * 256 + b, 0);
      header += count;
    }
    items.push(content.subarray(offset, offset + header + len));
    offset += header + len;
  }
  return items;
}

const contentOf = (element: Buffer): Buffer => {
  const first = element[1]!;
  return element.subarray(first & 0x80 ? 2 + (first & 0x7f) : 2);
};

/** `pem` with its issuer replaced by `issuerDer`, as PEM. */
export function withIssuer(pem: string, issuerDer: Buffer): string {
  const der = new X509Certificate(pem).raw;
  const [tbs, algorithm, signature] = elements(contentOf(der));
  const fields = elements(contentOf(tbs!));
  fields[fields[0]![0] === 0xa0 ? 3 : 2] = issuerDer;
  const patched = tlv(0x30, Buffer.concat([tlv(0x30, Buffer.concat(fields)), algorithm!, signature!]));
  return `-----BEGIN CERTIFICATE-----\n${(patched.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
}
