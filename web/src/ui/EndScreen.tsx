import type { Ending } from '../call/CallStore.ts';
import { type Key, t } from '../i18n/i18n.ts';
import { LanguagePicker } from './LanguagePicker.tsx';

type Kind = Ending | 'notFound' | 'endedBefore' | 'unreachable';

const TEXT: Record<Kind, { title: Key; body: Key }> = {
  left: { title: 'leftTitle', body: 'leftBody' },
  removed: { title: 'removedTitle', body: 'removedBody' },
  ended: { title: 'endedTitle', body: 'endedBody' },
  lost: { title: 'lostTitle', body: 'lostBody' },
  notFound: { title: 'notFoundTitle', body: 'notFoundBody' },
  endedBefore: { title: 'endedTitle', body: 'endedBeforeBody' },
  unreachable: { title: 'unreachableTitle', body: 'unreachableBody' },
};

/** Where a session ends, or a link leads nowhere: says what happened, offers only what can still be done. */
export function EndScreen({ kind, title, onRejoin }: { kind: Kind; title?: string; onRejoin?: () => void }) {
  const text = TEXT[kind];
  return (
    <main class="page center end-screen" data-end={kind}>
      <header class="page-head">
        <span class="muted">{title}</span>
        <LanguagePicker />
      </header>
      <h1>{t(text.title)}</h1>
      <p>{t(text.body)}</p>
      <div class="end-actions">
        {onRejoin && (
          <button type="button" class="primary" onClick={onRejoin}>
            {t('rejoin')}
          </button>
        )}
        <a class="button" href="/">
          {t('goHome')}
        </a>
      </div>
    </main>
  );
}
