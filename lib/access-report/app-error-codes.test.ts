import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { appErrorCode } from './app-error-codes';

const APP = join(__dirname, '..', '..', 'provider-app');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'test-support' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

interface Construction {
  readonly where: string;
  readonly status: string;
  readonly code: string;
  /** The description when it is a plain string literal. */
  readonly description?: string;
}

/** Every `new HttpError(status, 'code', description…)` in the app's sources. */
function constructions(): { found: Construction[]; total: number } {
  const found: Construction[] = [];
  let total = 0;
  for (const file of sources(APP)) {
    const text = readFileSync(file, 'utf8');
    total += text.split('new HttpError(').length - 1;
    for (const m of text.matchAll(/new HttpError\(\s*(\w+),\s*'(\w+)',\s*('(?:[^'\\]|\\.)*'|[^,)]+)/g)) {
      const literal = /^'(.*)'$/.exec(m[3]!)?.[1];
      found.push({ where: relative(APP, file), status: m[1]!, code: m[2]!, ...(literal !== undefined ? { description: literal.replace(/\\(.)/g, '$1') } : {}) });
    }
  }
  return { found, total };
}

describe("the code of an app refusal, from its status and description (the app's access line has no code)", () => {
  const { found, total } = constructions();

  it('reads every HttpError the app constructs (none hides from this test)', () => {
    expect(found.length).toBe(total);
    expect(found.length).toBeGreaterThan(20);
  });

  it('infers the code each of them was answered with', () => {
    const wrong = found
      .filter((c) => /^\d{3}$/.test(c.status))
      .map((c) => ({ ...c, inferred: appErrorCode(Number(c.status), c.description ?? 'a description built at run time') }))
      .filter((c) => c.inferred !== c.code);
    expect(wrong).toEqual([]);
  });

  it('the one constructed with a status built at run time (Node parser errors: 400, 408, 431) is invalid_request, as inferred', () => {
    const dynamic = found.filter((c) => !/^\d{3}$/.test(c.status));
    expect(dynamic.map((c) => [c.where, c.code])).toEqual([['server.ts', 'invalid_request']]);
    for (const status of [400, 408, 431]) expect(appErrorCode(status, 'any')).toBe('invalid_request');
  });

  it('a 401 without its description has no code: two codes share that status', () => {
    expect(appErrorCode(401, undefined)).toBeUndefined();
    expect(appErrorCode(401, 'the access token has expired')).toBe('invalid_token');
    expect(appErrorCode(401, 'an access token is required (Authorization: Bearer <token>)')).toBe('invalid_request');
  });
});
