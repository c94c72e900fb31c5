import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import type { Call } from '../call/Call.ts';
import { t } from '../i18n/i18n.ts';

export function ChatPanel({ call }: { call: Call }) {
  const messages = call.store.chat.value;
  const text = useSignal('');
  const log = useRef<HTMLOListElement>(null);
  useEffect(() => {
    log.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [messages.length]);
  const send = () => {
    const value = text.value.trim();
    if (!value) return;
    call.client.sendChat(value).then(
      () => {
        text.value = '';
      },
      () => call.store.say('actionFailed'),
    );
  };
  return (
    <section class="panel-body chat" aria-label={t('chat')}>
      <h2>{t('chat')}</h2>
      <ol class="chat-log" id="chat-log" ref={log} aria-live="polite">
        {messages.length === 0 && <li class="muted">{t('noMessages')}</li>}
        {messages.map((m) => (
          <li key={m.id}>
            <b>{m.participantId === call.store.selfId ? t('you') : m.name}</b> {m.text}
          </li>
        ))}
      </ol>
      <form
        id="chat-form"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <input id="chat-input" aria-label={t('message')} placeholder={t('message')} maxLength={2000} autoComplete="off" value={text.value} onInput={(e) => (text.value = e.currentTarget.value)} />
        <button type="submit">{t('send')}</button>
      </form>
    </section>
  );
}
