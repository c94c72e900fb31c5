import { describe, expect, it } from 'vitest';
import { en } from './en.ts';
import { catalogue, format, pickLang } from './i18n.ts';
import { zh } from './zh.ts';

describe('catalogues', () => {
  it('have the same keys and placeholders in English and Chinese', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const key of Object.keys(en) as Array<keyof typeof en>) {
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(names(zh[key]), key).toEqual(names(en[key]));
      expect(zh[key].trim(), key).not.toBe('');
    }
  });

  it('picks Chinese for zh-CN, zh-TW and zh browsers, English otherwise', () => {
    expect(pickLang(null, ['zh-CN', 'en'])).toBe('zh');
    expect(pickLang(null, ['zh'])).toBe('zh');
    expect(pickLang(null, ['fr-FR', 'en-GB'])).toBe('en');
    expect(pickLang(null, ['de'])).toBe('en');
    expect(pickLang('zh', ['en-US'])).toBe('zh');
  });

  it('fills placeholders', () => {
    expect(format('{name} is here', { name: 'Ann' })).toBe('Ann is here');
    expect(catalogue('en').pageOf).toContain('{page}');
  });
});
