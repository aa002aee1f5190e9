import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { installCommand, missingPackages, PACKAGE_LIST, readPackageList } from './test-prerequisites';

it('reads the one package list, comments and blank lines ignored', () => {
  expect(readPackageList('# comment\nnginx\n\ncloud-init  # why\n')).toEqual(['nginx', 'cloud-init']);
  expect(readPackageList(readFileSync(PACKAGE_LIST, 'utf8'))).toEqual(expect.arrayContaining(['nginx', 'cloud-init', 'shellcheck', 'systemd', 'unzip']));
});

it('names what is missing and the command that installs it', () => {
  const missing = missingPackages(['nginx', 'cloud-init', 'jq'], (name) => name === 'jq');
  expect(missing).toEqual(['nginx', 'cloud-init']);
  expect(installCommand(missing)).toBe('sudo apt-get install -y --no-install-recommends nginx cloud-init');
});

it('.ci/run installs exactly this list', () => {
  const ci = readFileSync(resolve(__dirname, '..', '.ci', 'run'), 'utf8');
  expect(ci).toContain('.ci/debian-packages');
});
