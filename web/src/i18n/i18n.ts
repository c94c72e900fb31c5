import { signal } from '@preact/signals';
import { en } from './en.ts';
import { zh } from './zh.ts';

export type Key = keyof typeof en;
export type Lang = 'en' | 'zh';
const catalogues: Record<Lang, Record<Key, string>> = { en, zh };
export const LANGS: Lang[] = ['en', 'zh'];
const STORE = 'convene.lang';

/** The browser's first language we have, unless the person picked one before. */
export function pickLang(saved: string | null, preferred: readonly string[]): Lang {
  if (saved === 'en' || saved === 'zh') return saved;
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'zh') return 'zh';
    if (base === 'en') return 'en';
  }
  return 'en';
}

function savedLang(): string | null {
  try {
    return localStorage.getItem(STORE);
  } catch {
    return null; // storage blocked (some in-app browsers)
  }
}

export const lang = signal<Lang>(typeof navigator === 'undefined' ? 'en' : pickLang(savedLang(), navigator.languages ?? [navigator.language]));

export function setLang(next: Lang): void {
  lang.value = next;
  try {
    localStorage.setItem(STORE, next);
  } catch {
    // not remembered; still switched
  }
}

/** The string for `key` in the current language, with `{name}` placeholders filled. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  return format(catalogues[lang.value][key], vars);
}

export function format(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export function catalogue(which: Lang): Record<Key, string> {
  return catalogues[which];
}
