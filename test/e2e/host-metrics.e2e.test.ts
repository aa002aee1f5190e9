/**
 * The host's metrics on the replica: after the real setup.sh (a certificate from pebble
 * through certbot, the app under the real PM2, the CRLs fetched and checked, a data
 * release swapped in), publish-metrics.sh — as provider-host-metrics.timer runs it —
 * sends every metric to the AWS stand-in, which records what CloudWatch would receive.
 * The scripts' own log lines land in the folder the CloudWatch agent ships.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { PUBLISHED_HOST_METRICS } from '../../host/cloudwatch-agent/host-metrics';
import { sampleDatasets, startProviderReplica, type ProviderReplica } from '../../testing/replica/provider-replica';

let provider: ProviderReplica;

beforeAll(async () => {
  provider = await startProviderReplica({ datasets: sampleDatasets() });
}, 300000);

afterAll(async () => {
  await provider?.stop();
}, 120000);

interface Recorded { namespace: string; region: string; metrics: { name: string; value: number; unit: string; dimensions: Record<string, string> }[] }
const recorded = (): Recorded[] =>
  readFileSync(join(provider.replica.awsRoot, 'cloudwatch', 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Recorded);

it('publish-metrics.sh sends every metric, with Environment=replica, from what setup.sh left on the host', async () => {
  const { replica } = provider;
  const run = await replica.runHostScript('publish-metrics', 120000);
  expect({ code: run.code, output: run.output }).toEqual({ code: 0, output: expect.stringContaining('publish-metrics.sh: published to ProviderHost (Environment=replica)') });
  const [call] = recorded();
  expect(call).toMatchObject({ namespace: 'ProviderHost', region: 'eu-west-2' });
  expect(call!.metrics.map((m) => m.name)).toEqual(Object.values(PUBLISHED_HOST_METRICS).map((m) => m.name));
  const value = (name: string) => call!.metrics.find((m) => m.name === name)!.value;
  // pebble's certificate, as nginx serves it.
  const fullchain = readFileSync(replica.path('etc', 'letsencrypt', 'live', replica.domain, 'fullchain.pem'), 'utf8');
  const notAfter = new Date(new X509Certificate(fullchain.slice(0, fullchain.indexOf('-----END CERTIFICATE-----') + 25)).validTo);
  expect(value('CertificateDaysLeft')).toBeCloseTo((notAfter.getTime() - Date.now()) / 86400000, 1);
  expect(value('CertificateRenewalFailed')).toBe(0);
  expect(value('CrlHoursToNextUpdate')).toBeGreaterThan(0);
  expect(value('CrlRefreshFailed')).toBe(0);
  expect(value('AppRestarts')).toBe(0);
  expect(value('DataReleaseAgeSeconds')).toBeGreaterThanOrEqual(0);
  expect(JSON.stringify(call)).not.toMatch(/BEGIN|PRIVATE/);

  // The scripts' own logs, where the agent's configuration points (setup's lines after the folder existed).
  const logs = replica.path('var', 'log', 'provider-host');
  expect(readdirSync(logs).sort()).toEqual(expect.arrayContaining(['publish-metrics.log', 'setup.log']));
  expect(readFileSync(join(logs, 'publish-metrics.log'), 'utf8')).toContain('published to ProviderHost (Environment=replica)');
  expect(readFileSync(join(logs, 'setup.log'), 'utf8')).toMatch(/setup\.sh: (no CloudWatch agent here|setup complete)/);
}, 180000);
