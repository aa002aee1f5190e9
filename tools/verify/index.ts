/**
 * Post-deploy verification as a library, for the e2e replica and scripts:
 *
 * ```ts
 * const report = await runVerify({
 *   url: 'https://provider.test:8443/',
 *   consumer: { issuer, clientId, cert: 'consumer.crt', key: 'consumer.key', ca: 'ca-bundle.crt', resolve: { 'provider.test': '127.0.0.1' } },
 * });
 * console.log(formatReport(report)); // ✔/⚠/✘ lines
 * expect(report.ok).toBe(true);
 * ```
 */
export { formatReport, runVerify, type VerifyOptions, type VerifyReport } from './run-verify';
export { formatCheck, type CheckResult } from './check-result';
