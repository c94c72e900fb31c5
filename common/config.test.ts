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

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });
});
