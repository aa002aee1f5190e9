/**
 * The product apart from its workshop: what ships (the cdktf app, the host files and
 * renderer, the provider app and what they import) never imports test support,
 * operator tools or benchmarks.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const PRODUCT = ['main.ts', 'config', 'contract', 'stacks', 'host', 'nginx', 'provider-app', 'lib'];
const WORKSHOP = ['testing', 'tools', 'bench', 'test'];

function sources(path: string): string[] {
  const full = join(ROOT, path);
  if (statSync(full).isFile()) return [path];
  return readdirSync(full).flatMap((entry) => sources(join(path, entry)));
}

const shipped = PRODUCT.flatMap(sources).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('/test/'));
const SPEC = /(?:from\s+|import\(\s*|require\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

it('the product has files to check', () => {
  expect(shipped.length).toBeGreaterThan(50);
  expect(shipped).toContain('provider-app/start-provider-app.ts');
});

it('no shipped file imports testing/, tools/, bench/ or test/', () => {
  const crossings = shipped.flatMap((file) =>
    [...readFileSync(join(ROOT, file), 'utf8').matchAll(SPEC)]
      .map((m) => relative(ROOT, resolve(ROOT, dirname(file), m[1]!)))
      .filter((target) => WORKSHOP.some((w) => target === w || target.startsWith(`${w}/`)))
      .map((target) => `${file} → ${target}`),
  );
  expect(crossings).toEqual([]);
});

it('entry files are named for what they start: no main.ts but the cdktf app', () => {
  const mains = [...PRODUCT, ...WORKSHOP].flatMap(sources).filter((f) => f.endsWith('/main.ts'));
  expect(mains).toEqual([]);
});
