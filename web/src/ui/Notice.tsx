import { useEffect } from 'preact/hooks';
import type { CallStore } from '../call/CallStore.ts';
import { t } from '../i18n/i18n.ts';

/** A passing message at the bottom of the call ("A host muted you"), gone after a few seconds. */
export function Notice({ store }: { store: CallStore }) {
  const notice = store.notice.value;
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => {
      if (store.notice.value === notice) store.notice.value = null;
    }, 4000);
    return () => clearTimeout(timer);
  }, [notice]);
  return (
    <div class="notice" role="status" aria-live="polite">
      {notice ? t(notice.key, notice.vars) : ''}
    </div>
  );
}
