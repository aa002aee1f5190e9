/**
 * Whether every CA of the trust bundle will have a CRL on the host, checked at synthesis
 * when no CRL URL is configured. nginx (OpenSSL) wants a current CRL from the issuer of
 * every certificate in a client's chain; a CA without one has all its clients refused.
 * A CA's CRL is named by the certificates it issued (their CRL distribution points), so
 * in the bundle only the CAs below it name it: the root's CRL by the intermediate, and
 * the issuing CA's by nobody but the leaves — its URL must be configured.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

interface BundleCa {
  readonly subject: string;
  readonly issuer: string;
  readonly distributionPoints: readonly string[];
}

function bundleCas(pem: string): BundleCa[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => {
    const cert = new x509.X509Certificate(block);
    const cdp = cert.getExtension(x509.CRLDistributionPointsExtension);
    const distributionPoints = (cdp?.distributionPoints ?? []).flatMap((point) =>
      (point.distributionPoint?.fullName ?? []).flatMap((name) => (name.uniformResourceIdentifier ? [name.uniformResourceIdentifier] : [])),
    );
    return { subject: cert.subject, issuer: cert.issuer, distributionPoints };
  });
}

/**
 * The subjects of the bundle's CAs whose CRL nothing names, when the host would fetch
 * only the bundle's distribution points; [] when every CA is covered.
 */
export function uncoveredCas(trustBundlePem: string, fromTrustBundle: boolean): string[] {
  const cas = bundleCas(trustBundlePem);
  return cas
    .filter((ca) => !(fromTrustBundle && cas.some((other) => other !== ca && other.issuer === ca.subject && other.subject !== ca.subject && other.distributionPoints.length > 0)))
    .map((ca) => ca.subject);
}
