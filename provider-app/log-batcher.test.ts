import { LogBatcher } from './log-batcher';

function sink() {
  const writes: string[] = [];
  return { writes, sink: { write: (chunk: string) => writes.push(chunk) } };
}
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LogBatcher', () => {
  it('hands the lines of one interval to stdout in one write, in order, within the interval', async () => {
    const { writes, sink: s } = sink();
    const batcher = new LogBatcher(s, 30);
    batcher.write('a\n');
    await wait(5);
    batcher.write('b\n');
    batcher.write('c\n');
    expect(writes).toEqual([]);
    await wait(40);
    expect(writes).toEqual(['a\nb\nc\n']);
    batcher.write('d\n');
    await wait(40);
    expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('writes at once when maxBytes are waiting, so a burst never piles up', () => {
    const { writes, sink: s } = sink();
    const batcher = new LogBatcher(s, 60_000, 10);
    batcher.write('12345\n');
    expect(writes).toEqual([]);
    batcher.write('67890\n');
    expect(writes).toEqual(['12345\n67890\n']);
  });

  it('flush() writes what waits synchronously and calls back (shutdown), and is harmless when empty', () => {
    const { writes, sink: s } = sink();
    const batcher = new LogBatcher(s);
    const done = jest.fn();
    batcher.flush(done);
    expect(done).toHaveBeenCalledTimes(1);
    batcher.write('last\n');
    batcher.flush(done);
    expect(writes).toEqual(['last\n']);
    expect(done).toHaveBeenCalledTimes(2);
  });

  it('loses no line over many turns', async () => {
    const { writes, sink: s } = sink();
    const batcher = new LogBatcher(s, 1, 1000);
    const expected: string[] = [];
    for (let i = 0; i < 500; i += 1) {
      const line = `{"n":${i}}\n`;
      expected.push(line);
      batcher.write(line);
      if (i % 7 === 0) await wait(i % 2);
    }
    await wait(5);
    expect(writes.join('')).toBe(expected.join(''));
    expect(writes.length).toBeLessThan(500);
  });
});
