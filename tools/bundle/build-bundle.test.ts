import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hashDirectory } from '../../lib/content-hash';
import { BundleError, buildHostBundle } from './build-bundle';

function fixtureProject(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ph-bundle-root-'));
  const files: Record<string, string> = {
    'provider-app/start-provider-app.ts': "import { greeting } from './greeting';\nconsole.log(greeting('bundle'));\n",
    'provider-app/greeting.ts': 'export const greeting = (who: string): string => `hello ${who}`;\n',
    'provider-app/ecosystem.config.js': 'module.exports = { apps: [{ name: "provider" }] };\n',
    'provider-app/app.test.ts': 'never shipped\n',
    'host/scripts/setup.sh': '#!/bin/bash\necho setup\n',
    'host/render/host-render.ts': "import { greeting } from '../../provider-app/greeting';\nconsole.log(greeting('renderer'));\n",
    'host/scripts/setup.test.ts': 'never shipped\n',
    'nginx/templates/mtls.conf': 'server { listen {{port}}; }\n',
    'nginx/.editor-backup': 'never shipped\n',
    'nginx/render-template.ts': 'export {}; // TypeScript never ships\n',
    'host/test-support/fixture.pem': 'never shipped\n',
  };
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
  fs.chmodSync(path.join(root, 'host/scripts/setup.sh'), 0o755);
  return root;
}

describe('buildHostBundle', () => {
  const roots: string[] = [];
  const project = (): string => {
    const root = fixtureProject();
    roots.push(root);
    return root;
  };
  afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

  it('builds the app into one runnable file and copies host/, nginx/ and the PM2 file without TypeScript or tests', async () => {
    const root = project();
    const out = path.join(root, 'dist', 'host-bundle');
    const { version } = await buildHostBundle({ root, outDir: out });

    expect(execFileSync(process.execPath, [path.join(out, 'dist/provider-app/start-provider-app.js')], { encoding: 'utf8' })).toBe('hello bundle\n');
    expect(fs.existsSync(path.join(out, 'dist/provider-app/greeting.js'))).toBe(false);
    // The host's renderer, one file too, runnable without node_modules.
    expect(execFileSync(process.execPath, [path.join(out, 'dist/host/host-render.js')], { encoding: 'utf8' })).toBe('hello renderer\n');
    expect(fs.existsSync(path.join(out, 'host/render/host-render.ts'))).toBe(false);
    expect(fs.readFileSync(path.join(out, 'provider-app/ecosystem.config.js'), 'utf8')).toContain('provider');
    expect(fs.existsSync(path.join(out, 'provider-app/app.test.ts'))).toBe(false);
    expect(fs.readFileSync(path.join(out, 'nginx/templates/mtls.conf'), 'utf8')).toBe('server { listen {{port}}; }\n');
    expect(fs.existsSync(path.join(out, 'host/scripts/setup.test.ts'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'nginx/.editor-backup'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'nginx/render-template.ts'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'host/test-support'))).toBe(false);
    expect(fs.statSync(path.join(out, 'host/scripts/setup.sh')).mode & 0o111).toBe(0o111);
    expect(version).toMatch(/^[0-9a-f]{32}$/);
    expect(fs.readFileSync(path.join(out, 'VERSION'), 'utf8')).toBe(`${version}\n`);
  });

  it('writes a VERSION that is the content hash: same sources, same version; a changed source, another', async () => {
    const root = project();
    const first = await buildHostBundle({ root, outDir: path.join(root, 'a') });
    const again = await buildHostBundle({ root, outDir: path.join(root, 'b') });
    expect(again.version).toBe(first.version);
    fs.rmSync(path.join(root, 'b', 'VERSION'));
    expect(hashDirectory(path.join(root, 'b'))).toBe(first.version);

    fs.appendFileSync(path.join(root, 'host/scripts/setup.sh'), 'echo changed\n');
    const changed = await buildHostBundle({ root, outDir: path.join(root, 'c') });
    expect(changed.version).not.toBe(first.version);
  });

  it('replaces the output folder as a whole, leaving no staging folders', async () => {
    const root = project();
    const out = path.join(root, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'stale.txt'), 'old');
    await buildHostBundle({ root, outDir: out });
    expect(fs.existsSync(path.join(out, 'stale.txt'))).toBe(false);
    expect(fs.readdirSync(root).filter((f) => f.startsWith('out')).sort()).toEqual(['out']);
  });

  it('keeps the previous bundle when a build fails', async () => {
    const root = project();
    const out = path.join(root, 'out');
    const { version } = await buildHostBundle({ root, outDir: out });
    fs.writeFileSync(path.join(root, 'provider-app', 'start-provider-app.ts'), 'syntax error here(\n');
    await expect(buildHostBundle({ root, outDir: out })).rejects.toThrow(BundleError);
    expect(fs.readFileSync(path.join(out, 'VERSION'), 'utf8')).toBe(`${version}\n`);
    expect(fs.readdirSync(root).filter((f) => f.startsWith('out')).sort()).toEqual(['out']);
  });

  it('fails with a clear message when the provider app is missing', async () => {
    const root = project();
    fs.rmSync(path.join(root, 'provider-app', 'start-provider-app.ts'));
    await expect(buildHostBundle({ root, outDir: path.join(root, 'out') })).rejects.toThrow(BundleError);
    await expect(buildHostBundle({ root, outDir: path.join(root, 'out') })).rejects.toThrow(/missing provider-app\/start-provider-app\.ts.*needs the provider app/);
  });

  it('names the file and line when the app does not compile', async () => {
    const root = project();
    fs.writeFileSync(path.join(root, 'provider-app', 'start-provider-app.ts'), "import { nothing } from './does-not-exist';\nnothing();\n");
    await expect(buildHostBundle({ root, outDir: path.join(root, 'out') })).rejects.toThrow(/provider-app\/start-provider-app\.ts:1: Could not resolve "\.\/does-not-exist"/);
  });
});
