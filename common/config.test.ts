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

  it('takes TRUST_PROXY as a hop count or a list of proxy addresses', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '0' }).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,fd00::/8,loopback' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1', 'fd00::/8', 'loopback']);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });
});
