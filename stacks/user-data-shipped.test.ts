/**
 * What reaches the instance is exactly what was rendered: base64 in the Terraform JSON,
 * so no `${` in the embedded script can become a Terraform interpolation.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { only, removeTempDirs, synthStack, tempDir } from '../testing/synth';

afterAll(removeTempDirs);

describe('shipped user data', () => {
  it('decodes to the rendered document byte for byte, ${VAR} intact, and is valid cloud-config under 16 KB', () => {
    const { doc, stack } = synthStack();
    const instance = only(doc, 'aws_instance');
    expect(instance).not.toHaveProperty('user_data');
    const decoded = Buffer.from(instance.user_data_base64 as string, 'base64');
    expect(decoded.equals(Buffer.from(stack.userData, 'utf8'))).toBe(true);
    expect(decoded.toString('utf8')).toContain('PH_ETC="${PH_ETC:-/etc/provider-host}"');
    expect(decoded.toString('utf8').startsWith('#cloud-config\n')).toBe(true);
    expect(decoded.length).toBeLessThan(16 * 1024);

    const file = path.join(tempDir('shipped'), 'user-data');
    fs.writeFileSync(file, decoded);
    const check = spawnSync('cloud-init', ['schema', '-c', file], { encoding: 'utf8' });
    expect(check.stdout).toContain('Valid cloud-config');
    expect(check.status).toBe(0);
  });

  it('holds only static values: no Terraform reference, no bucket, no bundle key', () => {
    const { doc, stack } = synthStack();
    const decoded = Buffer.from(only(doc, 'aws_instance').user_data_base64 as string, 'base64').toString('utf8');
    expect(decoded).not.toMatch(/\$\{(aws_|data\.|TfToken)/);
    expect(decoded).not.toContain(stack.storage.bundleHash);
    expect(decoded).toContain('PH_HOST_CONFIG_PARAM=/provider-host/example/host-config');
  });
});
