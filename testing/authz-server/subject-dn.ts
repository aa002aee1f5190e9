/**
 * Distinguished-name comparison for `tls_client_auth_subject_dn`. Node renders a
 * certificate subject as `C=GB\nO=Example\nCN=consumer`; operators write RFC 4514
 * (`CN=consumer,O=Example,C=GB`). Both become the same ordered list of
 * `type=value` pairs (types upper-cased, most specific first) before comparison.
 */
export function normalizeDn(dn: string, order: 'rfc4514' | 'node'): string[] {
  const parts = order === 'node' ? dn.split('\n').reverse() : splitRfc4514(dn);
  return parts
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq < 0 ? part : `${part.slice(0, eq).trim().toUpperCase()}=${part.slice(eq + 1).trim()}`;
    });
}

function splitRfc4514(dn: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i += 1) {
    const ch = dn[i]!;
    if (ch === '\\' && i + 1 < dn.length) {
      current += dn[i + 1];
      i += 1;
    } else if (ch === ',' || ch === ';') {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/** True when the certificate subject (Node's `X509Certificate.subject`) equals the registered RFC 4514 DN. */
export function subjectMatches(certificateSubject: string, registeredDn: string): boolean {
  const actual = normalizeDn(certificateSubject, 'node');
  const expected = normalizeDn(registeredDn, 'rfc4514');
  return actual.length === expected.length && actual.every((part, i) => part === expected[i]);
}
