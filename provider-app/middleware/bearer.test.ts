import { HttpError } from '../errors';
import { parseBearer } from './bearer';

describe('parseBearer', () => {
  it('accepts the scheme in any case', () => {
    expect(parseBearer('Bearer abc.DEF-_~+/=')).toBe('abc.DEF-_~+/=');
    expect(parseBearer('bearer abc')).toBe('abc');
    expect(parseBearer('BEARER abc')).toBe('abc');
  });

  it.each([['Basic dXNlcjpwYXNz'], ['Bearer'], ['Bearer two words'], ['Bearer a"b'], ['Token abc']])('rejects %j as invalid_request', (value) => {
    expect(() => parseBearer(value)).toThrow(HttpError);
    try {
      parseBearer(value);
    } catch (error) {
      expect((error as HttpError).code).toBe('invalid_request');
      expect((error as HttpError).status).toBe(401);
    }
  });

  it('gives a bare challenge when there is no Authorization header (RFC 6750 §3.1)', () => {
    try {
      parseBearer(undefined);
      throw new Error('expected a refusal');
    } catch (error) {
      expect((error as HttpError).extra.challenge).toBe(false);
      expect((error as HttpError).status).toBe(401);
    }
  });
});
