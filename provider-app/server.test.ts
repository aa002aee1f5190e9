import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, promises as fsPromises, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createServer as createNetServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeStaleSocket, startServer, type RunningServer } from './server';
import { escapedCert, FakeIntrospector, legacyCert, makeCerts, makeDataDir, memoryLogger, testApp } from '../testing/provider-app-fixtures';

/** One raw HTTP/1.1 request over a UNIX socket; resolves with the status line and body. */
function rawRequest(socketPath: string, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath, () => socket.write(head));
    let data = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

describe('startServer on a UNIX socket', () => {
  let dir: string;
  let running: RunningServer | undefined;
  const { logger, lines } = memoryLogger();
  const handler = (_req: unknown, res: { end: (s: string) => void }) => res.end('ok');
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'provider-sock-'));
  });
  afterEach(async () => {
    await running?.drain(100);
    running = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the socket with mode 0660 (or the configured mode)', async () => {
    const socket = join(dir, 'p.sock');
    running = await startServer(handler as never, { socket, socketMode: 0o660 }, logger);
    expect(statSync(socket).mode & 0o777).toBe(0o660);
    expect(statSync(socket).isSocket()).toBe(true);
    await running.drain(100);
    running = await startServer(handler as never, { socket, socketMode: 0o600 }, logger);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
  });

  it('creates the socket file with its final mode, never wider in between, and restores the umask', async () => {
    const socket = join(dir, 'p.sock');
    // The widest umask: created under it, the socket would be 0777 until the chmod.
    const previous = process.umask(0);
    const atChmod: number[] = [];
    // Record the mode when the chmod comes, and skip the chmod: the mode must already be right.
    const chmod = jest.spyOn(fsPromises, 'chmod').mockImplementation(async (path) => {
      atChmod.push(statSync(path).mode & 0o777);
    });
    try {
      running = await startServer(handler as never, { socket, socketMode: 0o660 }, logger);
      expect(statSync(socket).mode & 0o777).toBe(0o660);
      await running.drain(100);
      running = await startServer(handler as never, { socket, socketMode: 0o600 }, logger);
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      expect(atChmod).toEqual([0o660, 0o600]);
      await running.drain(100);
      running = undefined;
      // A failed listen restores the umask too.
      await expect(startServer(handler as never, { socket: join(dir, 'missing', 'p.sock'), socketMode: 0o660 }, logger)).rejects.toThrow(/listen/);
      expect(process.umask(previous)).toBe(0);
    } finally {
      chmod.mockRestore();
      process.umask(previous);
    }
  });

  it('removes a stale socket left by a crashed process and listens', async () => {
    const socket = join(dir, 'p.sock');
    // A real crash: a process listening on the socket is killed with SIGKILL, leaving the file.
    const crashed = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`]);
    await once(crashed.stdout!, 'data');
    crashed.kill('SIGKILL');
    await once(crashed, 'exit');
    expect(statSync(socket).isSocket()).toBe(true);
    running = await startServer(handler as never, { socket, socketMode: 0o660 }, logger);
    expect(await rawRequest(socket, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1.1 200/);
    expect(lines.some((l) => l.includes('removed stale socket file'))).toBe(true);
  });

  it('refuses to remove a path that is not a socket', async () => {
    const file = join(dir, 'not-a-socket');
    writeFileSync(file, 'precious');
    await expect(removeStaleSocket(file, logger)).rejects.toThrow(/is not a socket; refusing to remove it/);
    expect(existsSync(file)).toBe(true);
  });

  it('refuses to take over a socket another process is listening on', async () => {
    const socket = join(dir, 'p.sock');
    const other = createNetServer((c) => c.end());
    other.listen(socket);
    await once(other, 'listening');
    try {
      await expect(startServer(handler as never, { socket, socketMode: 0o660 }, logger)).rejects.toThrow(/another process is already listening/);
    } finally {
      other.close();
    }
  });

  describe("nginx's legacy folded certificate header", () => {
    const { alice } = makeCerts();
    const data = makeDataDir();
    afterAll(() => data.cleanup());
    const folded = (token: string) =>
      `GET /meters HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-OE-CLIENT-CERT: ${legacyCert(alice).replace(/\n/g, '\r\n')}\r\nConnection: close\r\n\r\n`;

    /** Status line, headers (lower-cased names) and body of a raw HTTP/1.1 answer. */
    const parse = (raw: string) => {
      const [head, ...rest] = raw.split('\r\n\r\n');
      const [statusLine, ...headerLines] = head!.split('\r\n');
      const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      return { statusLine, headers, body: rest.join('\r\n\r\n') };
    };

    it('is answered, with the strict parser (the default), like the app\'s other errors: JSON 400, Date, a new interaction id, no-store, Connection: close, one log line', async () => {
      const fake = new FakeIntrospector();
      const token = fake.bound('tok', alice);
      const socket = join(dir, 'p.sock');
      const log = memoryLogger();
      running = await startServer(testApp({ dataDir: data.dir, introspector: fake }).app, { socket, socketMode: 0o660 }, log.logger);
      const res = parse(await rawRequest(socket, folded(token)));
      expect(res.statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect(new Date(res.headers.date!).getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(res.headers['x-fapi-interaction-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.connection).toBe('close');
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.body)));
      expect(JSON.parse(res.body)).toEqual({ error: 'invalid_request', error_description: 'the request could not be parsed' });
      expect(fake.calls).toBe(0);
      const logged = log.lines.map((l) => JSON.parse(l));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({
        level: 'warn',
        access: true,
        interactionId: res.headers['x-fapi-interaction-id'],
        status: 400,
        bytes: Buffer.byteLength(res.body),
        parseError: 'HPE_INVALID_HEADER_TOKEN',
      });
      // No header value, token or certificate reaches the log.
      const all = log.lines.join('\n');
      expect(all).not.toContain(token);
      expect(all).not.toContain(alice.certPem.split('\n')[1]!.slice(0, 40));
      expect(all).not.toContain('BEGIN CERTIFICATE');
      // Oversized headers keep Node's 431, in the same shape.
      const huge = parse(await rawRequest(socket, `GET /meters HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
      expect(huge.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      expect(JSON.parse(huge.body)).toEqual({ error: 'invalid_request', error_description: 'the request headers are too large' });
      expect(huge.headers['x-fapi-interaction-id']).toBeDefined();
      expect(log.lines.join('\n')).not.toContain('aaaaaaaa');
    });

    it('is rejected by the strict parser and accepted when legacyCertHeader is on', async () => {
      const fake = new FakeIntrospector();
      const token = fake.bound('tok', alice);
      const socket = join(dir, 'p.sock');
      running = await startServer(testApp({ dataDir: data.dir, introspector: fake }).app, { socket, socketMode: 0o660 }, logger);
      expect(await rawRequest(socket, folded(token))).toMatch(/^HTTP\/1.1 400/);
      await running.drain(100);
      running = await startServer(testApp({ dataDir: data.dir, introspector: fake }).app, { socket, socketMode: 0o660 }, logger, { lenientHeaders: true });
      const res = await rawRequest(socket, folded(token));
      expect(res).toMatch(/^HTTP\/1.1 200/);
      expect(res).toContain('id,kwh');
      // The escaped form works either way.
      const escaped = `GET /meters HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-OE-CLIENT-CERT: ${escapedCert(alice)}\r\nConnection: close\r\n\r\n`;
      expect(await rawRequest(socket, escaped)).toMatch(/^HTTP\/1.1 200/);
    });
  });
});
