import type { Call } from '../call/Call.ts';
import { t } from '../i18n/i18n.ts';
import { DevicePickers } from './DevicePickers.tsx';
import { LanguagePicker } from './LanguagePicker.tsx';

/** Devices and language during the call. */
export function SettingsPanel({ call }: { call: Call }) {
  const choice = call.media.choice.value;
  return (
    <section class="panel-body settings" aria-label={t('settings')}>
      <h2>{t('settings')}</h2>
      <DevicePickers
        choice={choice}
        onChoose={(next) => {
          if (next.speakerId) call.audio.setSpeaker(next.speakerId);
          call.media.choose(next).catch(() => call.store.say('mediaFailed'));
        }}
      />
      <LanguagePicker />
    </section>
  );
}
