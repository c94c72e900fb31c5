import { describe, expect, it } from 'vitest';
import { endpoint } from './endpoint.ts';

describe('endpoint', () => {
  it('takes host, port and scheme from a URL', () => {
    expect(endpoint('http://127.0.0.1:3000')).toEqual({ hostname: '127.0.0.1', port: '3000', secure: false });
    expect(endpoint('https://meet.example.com/some/path?x=1')).toEqual({ hostname: 'meet.example.com', port: '443', secure: true });
    expect(endpoint('ws://example.com')).toEqual({ hostname: 'example.com', port: '80', secure: false });
  });

  it('unwraps an IPv6 literal, as engine.io adds the brackets itself', () => {
    expect(endpoint('http://[::1]:4000/')).toEqual({ hostname: '::1', port: '4000', secure: false });
  });

  it('refuses what is not a URL', () => {
    expect(() => endpoint('example.com:80')).toThrow(/not an http/);
  });
});
