import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has working defaults for the embedded mode', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.embedded).toBe(true);
    expect(config.publicUrl).toBe('http://127.0.0.1:3000');
    expect(config.MEDIA_WORKERS).toBeGreaterThanOrEqual(1);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', 'must be a number'],
    [{ PORT: '70000' }, 'PORT', 'between 1 and 65535'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL', 'redis://'],
    [{ MEDIA_WORKERS: '0' }, 'MEDIA_WORKERS', '> 0'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', ''],
    [{ MEDIA_RTC_MIN_PORT: '5000', MEDIA_RTC_MAX_PORT: '4000' }, 'MEDIA_RTC_MIN_PORT', 'must not exceed'],
    [{ REDIS_SENTINELS: 'sentinel-0' }, 'REDIS_SENTINELS', 'host:port'],
    [{ REDIS_SENTINELS: 'a:26379,,b:26379' }, 'REDIS_SENTINELS', 'host:port'],
    [{ REDIS_SENTINELS: 'a:0' }, 'REDIS_SENTINELS', 'between 1 and 65535'],
    [{ REDIS_SENTINELS: 'a:26379', REDIS_URL: 'redis://a:6379' }, 'REDIS_SENTINELS', 'together with REDIS_URL'],
    [{ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'my master' }, 'REDIS_SENTINEL_NAME', 'letters'],
    [{ REDIS_URL: 'redis://a:6379', REDIS_PASSWORD: 'secret' }, 'REDIS_PASSWORD', 'only with REDIS_SENTINELS'],
    [{ REDIS_SENTINEL_PASSWORD: 'secret' }, 'REDIS_SENTINEL_PASSWORD', 'only with REDIS_SENTINELS'],
    [{ TRUST_PROXY: 'true' }, 'TRUST_PROXY', 'not true'],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY', '"10.0.0.0/33"'],
    [{ TRUST_PROXY: '127.0.0.1,nginx' }, 'TRUST_PROXY', '"nginx"'],
  ])('rejects %j naming %s', (env, variable, fragment) => {
    let caught: unknown;
    try {
      loadConfig(env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as ConfigError).message).toContain(variable);
    expect((caught as ConfigError).message).toContain(fragment);
  });

  it('reaches Redis by URL or through Sentinels', () => {
    expect(loadConfig({ REDIS_URL: 'redis://a:6379' }).redis).toEqual({ kind: 'url', url: 'redis://a:6379' });
    const config = loadConfig({ REDIS_SENTINELS: 'sentinel-0:26379, 10.0.0.7:26380', REDIS_PASSWORD: 'p', REDIS_SENTINEL_PASSWORD: 's' });
    expect(config.embedded).toBe(false);
    expect(config.redis).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 'sentinel-0', port: 26379 },
        { host: '10.0.0.7', port: 26380 },
      ],
      name: 'mymaster',
      password: 'p',
      sentinelPassword: 's',
    });
    expect(loadConfig({}).redis).toBeUndefined();
  });

  it('takes TRUST_PROXY as a hop count or a list of proxy addresses', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '0' }).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,fd00::/8,loopback' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1', 'fd00::/8', 'loopback']);
  });

  it('takes TURN as a shared secret with the URIs clients use, and refuses one without the other', () => {
    const config = loadConfig({ TURN_SECRET: 'sixteen-chars-at-least', TURN_URLS: 'turn:t.example:3478, turns:t.example:443?transport=tcp', TURN_TTL_SECONDS: '600' });
    expect(config.TURN_URLS).toEqual(['turn:t.example:3478', 'turns:t.example:443?transport=tcp']);
    expect(config.TURN_TTL_SECONDS).toBe(600);
    expect(loadConfig({}).TURN_TTL_SECONDS).toBe(86_400);
    expect(() => loadConfig({ TURN_SECRET: 'sixteen-chars-at-least' })).toThrow(/TURN_URLS must be set with TURN_SECRET/);
    // Shared settings reach every role; only the api needs the secret (it warns when it lacks it).
    expect(loadConfig({ TURN_URLS: 'turn:t.example:3478' }).TURN_URLS).toEqual(['turn:t.example:3478']);
    expect(() => loadConfig({ TURN_SECRET: 'sixteen-chars-at-least', TURN_URLS: 'http://t.example' })).toThrow(/TURN_URLS must be a comma-separated list/);
    expect(loadConfig({ TURN_URLS: 'stun:s.example:3478' }).TURN_URLS).toEqual(['stun:s.example:3478']);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });
});
