import { spawn, type ChildProcess } from 'node:child_process';
import { isAlive, readyLine, readyMessage, readyWhen, stopChild, stopPids, waitFor } from './child-process';

const started: ChildProcess[] = [];

/** A Node child running `script`; stopped by PID after each test. */
function node(script: string, ipc = false): ChildProcess {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])] });
  started.push(child);
  return child;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((child) => stopChild(child, 100)));
});

const IGNORES_SIGTERM = "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000);";

describe('readyLine', () => {
  it('resolves with the first line the parser accepts', async () => {
    const child = node("console.log('starting'); setTimeout(() => console.log(JSON.stringify({ ready: true, port: 7 })), 50); setInterval(() => {}, 1000);");
    const ready = await readyLine(child, { what: 'server', timeoutMs: 5000 }, (line) => (line.startsWith('{') ? (JSON.parse(line) as { port: number }) : undefined));
    expect(ready).toEqual({ ready: true, port: 7 });
  });

  it('rejects, naming the process and the exit code, when the child exits first', async () => {
    const child = node("console.error('bad config'); process.exit(3);");
    await expect(readyLine(child, { what: 'authz-server', timeoutMs: 5000, explain: () => '; see the log' }, () => undefined)).rejects.toThrow(
      'authz-server exited (3) before it was ready; see the log',
    );
  });

  it('rejects after the timeout when no line says ready', async () => {
    const child = node("console.log('not yet'); setInterval(() => {}, 1000);");
    await expect(readyLine(child, { what: 'server', timeoutMs: 300 }, () => undefined)).rejects.toThrow('server did not become ready within 300 ms');
  });

  it('rejects with the parser error', async () => {
    const child = node("console.log('{broken'); setInterval(() => {}, 1000);");
    await expect(readyLine(child, { what: 'server', timeoutMs: 5000 }, (line) => JSON.parse(line) as unknown)).rejects.toThrow(SyntaxError);
  });
});

describe('readyMessage', () => {
  it("resolves on the IPC message 'ready' and ignores others", async () => {
    const child = node("process.send('starting'); setTimeout(() => process.send('ready'), 50); setInterval(() => {}, 1000);", true);
    await expect(readyMessage(child, { what: 'app', timeoutMs: 5000 })).resolves.toBeUndefined();
  });
});

describe('readyWhen', () => {
  it('resolves once the condition holds', async () => {
    const child = node('setInterval(() => {}, 1000);');
    let calls = 0;
    await readyWhen(child, { what: 'nginx', timeoutMs: 5000 }, async () => (calls += 1) >= 3, 10);
    expect(calls).toBe(3);
  });

  it('rejects when the child exits while the condition does not hold', async () => {
    const child = node('setTimeout(() => process.exit(0), 100);');
    await expect(readyWhen(child, { what: 'nginx', timeoutMs: 5000 }, async () => false)).rejects.toThrow('nginx exited (0) before it was ready');
  });
});

describe('stopping', () => {
  it('stopChild sends SIGKILL to a child that ignores SIGTERM after the grace time', async () => {
    const child = node(IGNORES_SIGTERM);
    await readyLine(child, { what: 'stubborn', timeoutMs: 5000 }, (line) => (line === 'up' ? true : undefined));
    await stopChild(child, 200);
    expect(child.signalCode).toBe('SIGKILL');
    await expect(stopChild(child, 200)).resolves.toBeUndefined();
  });

  it('stopPids stops processes by PID, even ones ignoring SIGTERM', async () => {
    const polite = node('setInterval(() => {}, 1000);');
    const stubborn = node(IGNORES_SIGTERM);
    await readyLine(stubborn, { what: 'stubborn', timeoutMs: 5000 }, (line) => (line === 'up' ? true : undefined));
    await stopPids([polite.pid!, stubborn.pid!], 200);
    await waitFor('both to be reaped', () => (isAlive(polite.pid!) || isAlive(stubborn.pid!) ? undefined : true), 2000, 20);
    expect(polite.signalCode).toBe('SIGTERM');
    expect(stubborn.signalCode).toBe('SIGKILL');
  });

  it('never treats 0 or a negative number (process groups) as a process', () => {
    expect(isAlive(0)).toBe(false);
    expect(isAlive(-1)).toBe(false);
    expect(isAlive(process.pid)).toBe(true);
  });
});

describe('waitFor', () => {
  it('names what it waited for when it times out', async () => {
    await expect(waitFor('pebble to answer', () => undefined, 100, 20)).rejects.toThrow('timed out after 100 ms waiting for pebble to answer');
  });
});
