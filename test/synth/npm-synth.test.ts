/**
 * The README's path, end to end and for real: `npm run synth` builds, bundles the
 * provider app and synthesizes the example environment (here into a temp folder).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../lib/project-paths';
import { removeTempDirs, tempDir, type TerraformJson } from '../../testing/synth';

afterAll(removeTempDirs);

describe('npm run synth', () => {
  it('writes the example stack, its assets and the host bundle', () => {
    const out = tempDir('npm-synth');
    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', CHECKPOINT_DISABLE: '1' };
    for (const key of ['PROVIDER_ENV', 'PROVIDER_CONFIG', 'PROVIDER_BUNDLE_DIR']) delete env[key];
    const result = spawnSync('npm', ['run', 'synth', '--silent', '--', '--output', out], { cwd: PROJECT_ROOT, env, encoding: 'utf8', timeout: 170_000 });
    expect(`${result.stdout}\n${result.stderr}`).toContain('Generated Terraform code for the stacks: example');
    expect(result.status).toBe(0);

    const stackJson = JSON.parse(fs.readFileSync(path.join(out, 'stacks', 'example', 'cdk.tf.json'), 'utf8')) as TerraformJson;
    const bundle = Object.values(stackJson.resource.aws_s3_object).find((o) => String(o.key).startsWith('bundles/'));
    expect(bundle).toBeDefined();
    expect(fs.statSync(path.join(out, 'stacks', 'example', String(bundle?.source))).size).toBeGreaterThan(1000);

    // Nothing synthesis wrote, nor any file inside the bundle archive, may hold a private key:
    // a PEM key block with its base64 body (the host's X.509 library names the labels in code).
    const keyBlock = /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----\s*[A-Za-z0-9+/=\s]{40,}-----END/;
    const written = fs.readdirSync(out, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
    const archives = written.filter((file) => file.endsWith('.zip'));
    expect(archives.length).toBeGreaterThan(0);
    for (const file of written.filter((f) => !f.endsWith('.zip'))) expect(`${file}: ${keyBlock.test(fs.readFileSync(file, 'latin1'))}`).toBe(`${file}: false`);
    for (const archive of archives) {
      const unzipped = spawnSync('unzip', ['-p', archive], { maxBuffer: 256 * 1024 * 1024 });
      expect(unzipped.status).toBe(0);
      expect(unzipped.stdout.length).toBeGreaterThan(1000);
      expect(`${archive}: ${keyBlock.test(unzipped.stdout.toString('latin1'))}`).toBe(`${archive}: false`);
    }

    const version = fs.readFileSync(path.join(PROJECT_ROOT, 'dist', 'host-bundle', 'VERSION'), 'utf8').trim();
    expect(version).toMatch(/^[0-9a-f]{32}$/);
    expect(fs.existsSync(path.join(PROJECT_ROOT, 'dist', 'host-bundle', 'dist', 'provider-app', 'start-provider-app.js'))).toBe(true);
    expect(fs.existsSync(path.join(PROJECT_ROOT, 'dist', 'host-bundle', 'host', 'bootstrap.sh'))).toBe(true);
  }, 180_000);
});
