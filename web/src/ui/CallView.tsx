import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call } from '../call/Call.ts';
import { t } from '../i18n/i18n.ts';
import type { RemoteTrack } from '../session.ts';
import { ChatPanel } from './ChatPanel.tsx';
import { Controls, type Panel } from './Controls.tsx';
import { PeoplePanel } from './PeoplePanel.tsx';
import { SettingsPanel } from './SettingsPanel.tsx';
import { ReactionsOverlay } from './Reactions.tsx';
import { Stage } from './Stage.tsx';

/** The call screen: banners, the stage, a side panel and the controls. */
export function CallView({ call }: { call: Call }) {
  const store = call.store;
  const [panel, setPanel] = useState<Panel>(null);
  const [seenChat, setSeenChat] = useState(store.chat.value.length);
  const chatCount = store.chat.value.length;
  useEffect(() => {
    if (panel === 'chat') setSeenChat(chatCount);
  }, [panel, chatCount]);
  const deck = call.deck.status.value;
  return (
    <main class="call" id="call">
      <header class="call-head">
        <strong class="call-title" id="meeting-title">
          {store.meeting.value?.title || t('appName')}
        </strong>
        {store.meeting.value?.locked && <span class="tag">{t('locked')}</span>}
      </header>
      {store.reconnecting.value && (
        <div class="banner warn" role="alert">
          {t('reconnecting')}
        </div>
      )}
      {call.audio.blocked.value && (
        <button type="button" class="banner" onClick={() => undefined}>
          {t('tapForSound')}
        </button>
      )}
      {deck && (
        <div class="banner" role="status">
          {t(deck.key, deck.vars)}
        </div>
      )}
      <div class={`call-body${panel ? ' with-panel' : ''}`}>
        <Stage call={call} />
        <ReactionsOverlay call={call} />
        {panel && (
          <aside class="panel" aria-label={t(panel)}>
            <button type="button" class="panel-close" aria-label={t('closePanel')} onClick={() => setPanel(null)}>
              ×
            </button>
            {panel === 'people' && <PeoplePanel call={call} />}
            {panel === 'chat' && <ChatPanel call={call} />}
            {panel === 'settings' && <SettingsPanel call={call} />}
          </aside>
        )}
      </div>
      <Controls call={call} panel={panel} setPanel={setPanel} unread={panel === 'chat' ? 0 : Math.max(0, chatCount - seenChat)} />
      {store.audioTracks.value.map((remote) => (
        <RemoteAudio key={remote.consumerId} call={call} remote={remote} />
      ))}
    </main>
  );
}

function RemoteAudio({ call, remote }: { call: Call; remote: RemoteTrack }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.srcObject = new MediaStream([remote.track]);
    const detach = call.audio.attach(el);
    return () => {
      detach();
      el.srcObject = null;
    };
  }, [remote.track]);
  // Remote voices are live speech with no caption track to offer.
  // biome-ignore lint/a11y/useMediaCaption: live call audio has no captions
  return <audio ref={ref} autoPlay data-participant={remote.participantId} data-producer={remote.producerId} />;
}
