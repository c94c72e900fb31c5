import { LANGS, type Lang, lang, setLang, t } from '../i18n/i18n.ts';

/** Switches the interface language; each language is named in itself. */
export function LanguagePicker() {
  return (
    <label class="lang-picker">
      <span class="visually-hidden">{t('language')}</span>
      <select value={lang.value} onChange={(e) => setLang((e.currentTarget as HTMLSelectElement).value as Lang)}>
        {LANGS.map((l) => (
          <option key={l} value={l}>
            {t(l === 'en' ? 'langEnglish' : 'langChinese')}
          </option>
        ))}
      </select>
    </label>
  );
}
