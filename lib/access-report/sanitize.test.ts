import { cleanRequest, cleanText, redactQuery, redactSecrets, REDACTED } from './sanitize';

describe('cleanText', () => {
  it('absent for what nginx logs as no value, and for non-strings', () => {
    for (const value of ['', '-', undefined, null, 42, {}]) expect(cleanText(value, 10)).toBeUndefined();
  });

  it('keeps ordinary text as it is', () => {
    expect(cleanText('CN=consumer-a,O=Example Energy Ltd,C=GB', 200)).toBe('CN=consumer-a,O=Example Energy Ltd,C=GB');
    expect(cleanText('Zürich – 東京 🙂', 200)).toBe('Zürich – 東京 🙂');
  });

  it('writes control characters out, so an ESC in a user agent never reaches a terminal', () => {
    expect(cleanText('\u001b[31mred\u001b[0m\u0007\u0000\u009b', 200)).toBe('\\x1b[31mred\\x1b[0m\\x07\\x00\\x9b');
  });

  it('writes out bidi overrides and invisible characters, so shown text is what was logged', () => {
    expect(cleanText('abc\u202edcba\u200b\u2066x', 200)).toBe('abc\\u{202e}dcba\\u{200b}\\u{2066}x');
  });

  it('replaces half a surrogate pair (JSON "\\ud800") with U+FFFD and keeps whole pairs', () => {
    expect(cleanText(JSON.parse('"a\\ud800b\\udc00c\\ud83d\\ude42"'), 200)).toBe('a\ufffdb\ufffdc🙂');
  });

  it('cuts a long value at max characters (not mid-pair) and marks the cut', () => {
    expect(cleanText('x'.repeat(50), 10)).toBe(`${'x'.repeat(10)}…`);
    expect(cleanText('🙂'.repeat(20), 3)).toBe('🙂🙂🙂…');
  });

  it('a hostile megabyte costs milliseconds, not a quadratic scan', () => {
    const started = Date.now();
    expect(cleanText('a.'.repeat(500_000), 200)).toHaveLength(201);
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('redaction', () => {
  it('query values in a request line, names kept', () => {
    expect(redactQuery('GET /meters?access_token=abc.def&x=1&flag HTTP/1.1')).toBe(`GET /meters?access_token=${REDACTED}&x=${REDACTED}&${REDACTED} HTTP/1.1`);
    expect(redactQuery('GET /meters HTTP/1.1')).toBe('GET /meters HTTP/1.1');
  });

  it('cleanRequest redacts the query even when the value is cut', () => {
    const shown = cleanRequest(`GET /m?access_token=${'t'.repeat(5000)} HTTP/1.1`, 300)!;
    expect(shown).toBe(`GET /m?access_token=${REDACTED}…`);
    expect(cleanRequest('GET /m?access_token=t0k3n HTTP/1.1', 300)).toBe(`GET /m?access_token=${REDACTED} HTTP/1.1`);
    expect(cleanRequest(`GET /m?access_token=${'t'.repeat(5000)} HTTP/1.1`, 10)).toBe('GET /m?acc…');
  });

  it('Bearer values, secret-named pairs and JWTs anywhere in free text', () => {
    expect(redactSecrets('client Authorization: Bearer abc.DEF-123')).toBe(`client Authorization: Bearer ${REDACTED}`);
    expect(redactSecrets('x client_secret=hunter2; refresh_token=r1')).toBe(`x client_secret=${REDACTED}; refresh_token=${REDACTED}`);
    expect(redactSecrets('agent eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln end')).toBe(`agent ${REDACTED} end`);
  });

  it('leaves text that only mentions a token alone', () => {
    expect(redactSecrets('an access token is required (Authorization: Bearer <token>)')).toBe('an access token is required (Authorization: Bearer <token>)');
  });
});
