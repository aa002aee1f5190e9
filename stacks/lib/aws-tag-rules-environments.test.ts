/**
 * Every shipped environment synthesizes to a stack whose tags AWS accepts on every
 * resource: the property the first real deploy lacked (a default tag IAM refused).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Testing } from 'cdktf';
import { buildStacks } from '../../main';
import { ENVIRONMENTS_DIR } from '../../lib/project-paths';
import { synthesizedTagProblems, type TaggedTerraform } from './aws-tag-rules';
import { ProviderStack } from '../provider-stack';
import { fixtureBundle, removeTempDirs, tempDir } from '../../testing/synth';

afterAll(removeTempDirs);

const environments = fs.readdirSync(ENVIRONMENTS_DIR).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.basename(f, path.extname(f)));

it('there are example environments to check', () => {
  expect(environments).toContain('example');
});

it.each(environments)('environment %s: every tag of the synthesized JSON is valid for its service', (name) => {
  const app = new App({ outdir: tempDir('tags-out') });
  const [stack] = buildStacks(app, { PROVIDER_ENV: name, PROVIDER_BUNDLE_DIR: fixtureBundle() });
  const doc = JSON.parse(Testing.synth(stack)) as TaggedTerraform & { provider: { aws: { default_tags: { tags: Record<string, string> }[] }[] } };
  expect(Object.keys(doc.provider.aws[0].default_tags[0].tags)).toEqual(expect.arrayContaining(['Environment', 'ManagedBy']));
  expect(synthesizedTagProblems(doc)).toEqual([]);
});

it('main.ts checks every stack it builds against the rules before synthesis', () => {
  const check = jest.spyOn(ProviderStack.prototype, 'checkAwsRules');
  try {
    buildStacks(new App({ outdir: tempDir('tags-main') }), { PROVIDER_ENV: 'example', PROVIDER_BUNDLE_DIR: fixtureBundle() });
    expect(check).toHaveBeenCalledTimes(1);
  } finally {
    check.mockRestore();
  }
});
