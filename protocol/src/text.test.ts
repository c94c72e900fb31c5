import { describe, expect, it } from 'vitest';
import { displayText, messageText } from './text.ts';

describe('display text', () => {
  const name = displayText(1, 64);

  it.each([
    ['right-to-left override', 'exe.\u202Egnp'],
    ['left-to-right embedding', 'a\u202Ab'],
    ['first strong isolate', 'x\u2068y'],
    ['bell', 'a\u0007b'],
    ['tab', 'a\tb'],
    ['newline', 'a\nb'],
    ['C1 control', 'a\u0085b'],
    ['line separator', 'a\u2028b'],
  ])('refuses a %s', (_what, value) => {
    expect(name.safeParse(value).success).toBe(false);
  });

  it('accepts right-to-left scripts, marks and emoji', () => {
    for (const value of ['שלום Ada', 'مرحبا\u200F', 'Zoë 👩\u200D💻']) expect(name.safeParse(value).data).toBe(value);
  });

  it('lets chat keep line breaks and tabs, but not overrides', () => {
    const chat = messageText();
    expect(chat.safeParse('two\nlines\tand a tab').success).toBe(true);
    expect(chat.safeParse('evil \u202Etxt.exe').success).toBe(false);
    expect(chat.safeParse('nul \u0000').success).toBe(false);
  });
});
