import { useEffect } from 'preact/hooks';
import type { Call } from '../call/Call.ts';
import { t } from '../i18n/i18n.ts';

/** The presented deck page for everyone; page controls (buttons and arrow keys) for its presenter. */
export function SlideStage({ call }: { call: Call }) {
  const p = call.store.presentation.value;
  const presenting = p !== null && p.presenterId === call.store.selfId;
  const turn = (delta: number) => {
    const now = call.client.presentation;
    if (!now) return;
    const page = Math.min(now.pageCount, Math.max(1, now.page + delta));
    if (page !== now.page) call.client.turnPage(page).then(() => call.store.sync(), () => call.store.say('actionFailed'));
  };
  useEffect(() => {
    if (!presenting) return;
    const keys = (e: KeyboardEvent) => {
      const tag = (e.target as HTMLElement).tagName;
      if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return;
      if (e.key === 'ArrowRight' || e.key === 'PageDown') turn(1);
      if (e.key === 'ArrowLeft' || e.key === 'PageUp') turn(-1);
    };
    document.addEventListener('keydown', keys);
    return () => document.removeEventListener('keydown', keys);
  }, [presenting]);
  if (!p) return null;
  return (
    <figure id="stage" class="slides">
      <img id="slide" src={call.client.pageUrl(p.fileId, p.page)} data-page={String(p.page)} alt={t('slideAlt', { page: p.page, pages: p.pageCount })} />
      <figcaption>
        <span>{t('pageOf', { page: p.page, pages: p.pageCount })}</span>
        {presenting && (
          <span class="presenter-controls">
            <button type="button" onClick={() => turn(-1)} disabled={p.page <= 1}>
              {t('previousSlide')}
            </button>
            <button type="button" onClick={() => turn(1)} disabled={p.page >= p.pageCount}>
              {t('nextSlide')}
            </button>
            <button type="button" onClick={() => call.client.stopPresenting().then(() => call.store.sync(), () => call.store.say('actionFailed'))}>
              {t('stopPresenting')}
            </button>
          </span>
        )}
      </figcaption>
    </figure>
  );
}
