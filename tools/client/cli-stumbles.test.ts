/**
 * What a new user runs into with the consumer CLI: scope problems explained, a broken
 * pipe ended quietly, a bad -o path named, `help`, an unknown option.
 */
import { PassThrough, Writable } from 'node:stream';
import { describeError, isBrokenPipe, noDatasetsHint, runClientCli } from './cli';
import { httpErrorFrom } from './http-errors';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]) => new Writable({ write: (c, _e, cb) => { into.push(String(c)); cb(); } });
  return { io: { stdout: sink(out), stderr: Object.assign(sink(err), { isTTY: false }) }, out, err };
}

it('help is a command, printing the usage to stdout, exit 0', async () => {
  const { io: cli, out } = io();
  expect(await runClientCli(['help'], cli)).toBe(0);
  expect(out.join('')).toMatch(/^Usage: provider-host client <command>/);
});

it('an unknown option is named plainly, with balanced quotes', async () => {
  const { io: cli, err } = io();
  expect(await runClientCli(['list', '--colour'], cli)).toBe(1);
  expect(err.join('')).toBe('error: unknown option --colour\n  hint: see --help\n');
});

it('insufficient_scope names the scope the provider requires and the flag that asks for it', () => {
  const error = httpErrorFrom(403, 'https://p/x', { 'www-authenticate': 'Bearer realm="provider", error="insufficient_scope", error_description="d", scope="energydata"' }, '', true);
  expect(describeError(error)).toContain('hint: The token lacks the scope this resource needs: ask for it with --scope energydata');
  const fromBody = httpErrorFrom(403, 'https://p/x', { 'content-type': 'application/json' }, '{"error":"insufficient_scope","error_description":"d","scope":"licence:x"}', true);
  expect(describeError(fromBody)).toContain('--scope licence:x');
});

it('an empty list explains the likely scope problem instead of a bare "No datasets."', () => {
  expect(noDatasetsHint(undefined)).toBe(
    'No datasets you may read with this token (no scope requested).\n  hint: the provider lists only what the token may read; ask for the scope it requires with --scope <scope> (its oauth.scope)\n',
  );
  expect(noDatasetsHint('wrong')).toContain('(scope: wrong)');
});

it('a closed reader (| head) is a broken pipe, not an error to print', () => {
  expect(isBrokenPipe(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBe(true);
  expect(isBrokenPipe(new Error('other'))).toBe(false);
  void PassThrough;
});
