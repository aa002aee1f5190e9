/**
 * A deploy that changes only the app bundle or the datasets must update the running
 * host in place: the instance's user data (whose change replaces the instance) stays
 * byte-identical, while the host config and the SSM association (which re-runs the
 * bootstrap on the host) change.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exampleConfig, fixtureBundle, folderWith, only, removeTempDirs, synthStack, type Synthesized } from '../testing/synth';

afterAll(removeTempDirs);

const userData = (s: Synthesized) => only(s.doc, 'aws_instance').user_data_base64;
/** The deploy association (the other one patches on a schedule). */
const commands = (s: Synthesized) => (s.doc.resource.aws_ssm_association[s.stack.host.association.friendlyUniqueId].parameters as { commands: string }).commands;
const hostConfig = (s: Synthesized) => only(s.doc, 'aws_ssm_parameter').value as string;

describe('deploying in place', () => {
  let before: Synthesized;
  beforeAll(() => {
    before = synthStack(exampleConfig(), fixtureBundle('v1'));
  });

  it('a new app bundle: same user data, new bundle key and association', () => {
    const after = synthStack(exampleConfig(), fixtureBundle('v2'));
    expect(after.stack.storage.bundleHash).not.toBe(before.stack.storage.bundleHash);
    expect(userData(after)).toBe(userData(before));
    expect(hostConfig(after)).toContain(`PH_BUNDLE_KEY=bundles/${after.stack.storage.bundleHash}.zip`);
    expect(commands(after)).toContain(`--bundle-hash ${after.stack.storage.bundleHash}`);
    expect(commands(after)).not.toBe(commands(before));
  });

  it('new datasets change nothing in a deploy: they are published (provider-host publish), not deployed', () => {
    const datasets = folderWith('datasets', { 'demand.csv': 'a,b\n1,2\n' });
    const after = synthStack(exampleConfig({ content: { datasetsDir: datasets } }), fixtureBundle('v1'));
    expect(userData(after)).toBe(userData(before));
    expect(hostConfig(after)).toBe(hostConfig(before));
    expect(commands(after)).toBe(commands(before));
  });

  it('a changed static file or trust bundle changes the association too', () => {
    const publicDir = folderWith('public', { 'index.html': '<p>new</p>' });
    const trust = path.join(folderWith('trust', {}), 'bundle.pem');
    fs.copyFileSync(exampleConfig().content.trustBundleFile, trust);
    fs.appendFileSync(trust, '# appended comment\n');
    const after = synthStack(exampleConfig({ content: { publicDir, trustBundleFile: trust } }), fixtureBundle('v1'));
    expect(userData(after)).toBe(userData(before));
    expect(commands(after)).toContain(`--public-hash ${after.stack.storage.publicHash}`);
    expect(commands(after)).toContain(`--trust-hash ${after.stack.storage.trustHash}`);
    expect(after.stack.storage.publicHash).not.toBe(before.stack.storage.publicHash);
    expect(after.stack.storage.trustHash).not.toBe(before.stack.storage.trustHash);
  });

  it('the same inputs synthesize the same stack (no timestamps, stable hashes)', () => {
    expect(synthStack(exampleConfig(), fixtureBundle('v1')).json).toBe(before.json);
  });
});
