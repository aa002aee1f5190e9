import { AuthorizationServerUnavailable, type IntrospectionResult, type Introspector } from './introspection';
import { CachingIntrospector } from './token-cache';

class CountingIntrospector implements Introspector {
  calls = 0;
  result: IntrospectionResult | Error = { active: true, exp: 2000 };
  async introspect(): Promise<IntrospectionResult> {
    this.calls += 1;
    await new Promise((r) => setImmediate(r));
    if (this.result instanceof Error) throw this.result;
    return this.result;
  }
}

describe('CachingIntrospector', () => {
  let clock: number;
  let inner: CountingIntrospector;
  const cache = (ttlSeconds = 60, maxEntries = 100) => new CachingIntrospector(inner, { ttlSeconds, maxEntries, now: () => clock });
  beforeEach(() => {
    clock = 1_000_000; // ms; token exp 2000 s = 2_000_000 ms
    inner = new CountingIntrospector();
  });

  it('peek() returns only a cached, unexpired result and never calls the server', async () => {
    const c = cache(60);
    expect(c.peek('t')).toBeUndefined();
    await c.introspect('t');
    expect(c.peek('t')).toEqual({ active: true, exp: 2000 });
    expect(c.peek('other')).toBeUndefined();
    clock += 60_000;
    expect(c.peek('t')).toBeUndefined();
    expect(inner.calls).toBe(1);
  });

  it('reuses a result within the TTL and asks again after it', async () => {
    const c = cache(60);
    await c.introspect('t');
    clock += 59_000;
    await c.introspect('t');
    expect(inner.calls).toBe(1);
    clock += 2_000;
    await c.introspect('t');
    expect(inner.calls).toBe(2);
  });

  it('never keeps a result past the token exp', async () => {
    inner.result = { active: true, exp: 1010 }; // 10 s after "now"
    const c = cache(60);
    await c.introspect('t');
    clock += 9_000;
    await c.introspect('t');
    expect(inner.calls).toBe(1);
    clock += 1_000;
    await c.introspect('t');
    expect(inner.calls).toBe(2);
  });

  it('is bounded, evicting the oldest entry', async () => {
    const c = cache(60, 2);
    await c.introspect('a');
    await c.introspect('b');
    await c.introspect('c');
    expect(c.size).toBe(2);
    await c.introspect('a');
    expect(inner.calls).toBe(4);
    await c.introspect('c');
    expect(inner.calls).toBe(4);
  });

  it('does not cache failures, and shares one call between concurrent lookups', async () => {
    const c = cache(60);
    inner.result = new AuthorizationServerUnavailable('down');
    await expect(c.introspect('t')).rejects.toThrow('down');
    inner.result = { active: true, exp: 2000 };
    await Promise.all([c.introspect('t'), c.introspect('t'), c.introspect('t')]);
    expect(inner.calls).toBe(2);
  });

  it('caches nothing with a TTL of 0', async () => {
    const c = cache(0);
    await c.introspect('t');
    await c.introspect('t');
    expect(inner.calls).toBe(2);
  });
});
