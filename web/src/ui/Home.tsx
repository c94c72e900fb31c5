import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { StartError, siteIsOpen, startMeeting } from '../api.ts';
import { t } from '../i18n/i18n.ts';
import { LanguagePicker } from './LanguagePicker.tsx';

/** The root page: start a meeting with the operator's API key, or open one by its link or id. */
export function Home() {
  const title = useSignal('');
  const apiKey = useSignal('');
  const link = useSignal('');
  const error = useSignal('');
  const busy = useSignal(false);
  // Until the site says it is open, it is not: the key field shows.
  const siteOpen = useSignal(false);
  useEffect(() => {
    siteIsOpen().then(
      (value) => {
        siteOpen.value = value;
      },
      () => undefined,
    );
  }, []);

  const start = async () => {
    busy.value = true;
    error.value = '';
    try {
      const meeting = await startMeeting(apiKey.value.trim(), title.value.trim());
      location.assign(`/m/${meeting.id}?hostKey=${encodeURIComponent(meeting.hostKey)}`);
    } catch (e) {
      const status = e instanceof StartError ? e.status : 0;
      error.value =
        status === 401 || status === 403 ? t('wrongApiKey') : status === 429 ? t('tooManyMeetings') : t('startFailed', { reason: (e as Error).message });
      busy.value = false;
    }
  };

  const open = () => {
    const id = link.value.trim().match(/(?:\/m\/)?([A-Za-z0-9_-]+)\/?(?:[?#].*)?$/)?.[1];
    if (id) location.assign(`/m/${id}`);
  };

  return (
    <main class="page home">
      <header class="page-head">
        <h1>{t('appName')}</h1>
        <LanguagePicker />
      </header>
      <section class="card">
        <h2>{t('startTitle')}</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            start().catch(() => undefined);
          }}
        >
          <label>
            {t('meetingTitle')}
            <input value={title.value} maxLength={200} onInput={(e) => (title.value = e.currentTarget.value)} />
          </label>
          {!siteOpen.value && (
            <label>
              {t('apiKey')}
              <input type="password" required autoComplete="off" value={apiKey.value} onInput={(e) => (apiKey.value = e.currentTarget.value)} />
            </label>
          )}
          <button type="submit" class="primary" disabled={busy.value}>
            {t('startMeeting')}
          </button>
        </form>
        <p class="error" role="alert">
          {error.value}
        </p>
      </section>
      <section class="card">
        <h2>{t('joinTitle')}</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            open();
          }}
        >
          <label>
            {t('meetingLink')}
            <input required value={link.value} onInput={(e) => (link.value = e.currentTarget.value)} />
          </label>
          <button type="submit">{t('openMeeting')}</button>
        </form>
      </section>
    </main>
  );
}
