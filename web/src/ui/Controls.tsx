import { useRef } from 'preact/hooks';
import type { Call } from '../call/Call.ts';
import { t } from '../i18n/i18n.ts';
import { canShareScreen, isTouchDevice } from '../media/devices.ts';
import { copyInvite } from './invite.ts';
import { Icon } from './icons.tsx';
import { Menu } from './Menu.tsx';
import { ReactionsMenu } from './Reactions.tsx';

export type Panel = 'people' | 'chat' | 'settings' | null;

interface Props {
  call: Call;
  panel: Panel;
  setPanel(panel: Panel): void;
  unread: number;
}

/** The call's buttons. Mic and camera show what the server has, not what was last clicked. */
export function Controls({ call, panel, setPanel, unread }: Props) {
  const store = call.store;
  const self = store.people.value.find((p) => p.self);
  const mic = self?.mic ?? 'none';
  const camera = self?.camera ?? false;
  const sharing = call.media.screenTrack.value !== null;
  const deckInput = useRef<HTMLInputElement>(null);
  const act = (work: Promise<unknown>): void => {
    work.catch(() => store.say('mediaFailed'));
  };
  const toggle = (which: Exclude<Panel, null>) => setPanel(panel === which ? null : which);
  const mayPresent = call.client.self?.grants.present !== false;
  return (
    <nav class="controls" aria-label={t('callControls')}>
      <button
        type="button"
        id="toggle-mic"
        class={`ctl${mic === 'on' ? '' : ' off'}`}
        aria-pressed={mic === 'on'}
        title={t(mic === 'on' ? 'turnMicOff' : 'turnMicOn')}
        onClick={() => act(call.media.toggleMic())}
      >
        <Icon name={mic === 'on' ? 'mic' : 'micOff'} />
        <span class="ctl-text">{t('microphone')}</span>
      </button>
      <button
        type="button"
        id="toggle-cam"
        class={`ctl${camera ? '' : ' off'}`}
        aria-pressed={camera}
        title={t(camera ? 'turnCameraOff' : 'turnCameraOn')}
        onClick={() => act(call.media.toggleCamera())}
      >
        <Icon name={camera ? 'camera' : 'cameraOff'} />
        <span class="ctl-text">{t('camera')}</span>
      </button>
      {isTouchDevice() && camera && (
        <button type="button" class="ctl" title={t('switchCamera')} onClick={() => act(call.media.flipCamera())}>
          <Icon name="flip" />
          <span class="ctl-text">{t('switchCamera')}</span>
        </button>
      )}
      {canShareScreen() && (
        <button type="button" id="toggle-screen" class="ctl" aria-pressed={sharing} onClick={() => act(call.media.toggleScreen())}>
          <Icon name="screen" />
          <span class="ctl-text">{t(sharing ? 'stopSharing' : 'shareScreen')}</span>
        </button>
      )}
      <ReactionsMenu call={call} />
      <button type="button" class="ctl" aria-pressed={panel === 'chat'} onClick={() => toggle('chat')}>
        <Icon name="chat" />
        <span class="ctl-text">{t('chat')}</span>
        {unread > 0 && (
          <span class="count" role="img" aria-label={t('unread', { n: unread })}>
            {unread}
          </span>
        )}
      </button>
      <button type="button" class="ctl" aria-pressed={panel === 'people'} onClick={() => toggle('people')}>
        <Icon name="people" />
        <span class="ctl-text">{t('people')}</span>
        <span class="count" aria-hidden="true">
          {store.people.value.length}
        </span>
      </button>
      <Menu
        label={t('moreOptions')}
        buttonClass="ctl"
        button={
          <>
            <Icon name="more" />
            <span class="ctl-text">{t('more')}</span>
          </>
        }
        up
      >
        {(close) => (
          <>
            {mayPresent && (
              <button
                type="button"
                role="menuitem"
                onClick={() => {
                  deckInput.current?.click();
                  close();
                }}
              >
                <Icon name="slides" /> {t('presentDeck')}
              </button>
            )}
            <button
              type="button"
              role="menuitem"
              onClick={() => {
                copyInvite(call);
                close();
              }}
            >
              <Icon name="link" /> {t('copyInvite')}
            </button>
            <button
              type="button"
              role="menuitem"
              onClick={() => {
                setPanel('settings');
                close();
              }}
            >
              <Icon name="settings" /> {t('settings')}
            </button>
          </>
        )}
      </Menu>
      <input
        ref={deckInput}
        type="file"
        id="deck"
        class="visually-hidden"
        tabIndex={-1}
        aria-label={t('presentDeck')}
        accept=".pdf,.pptx,.ppt,.odp"
        onChange={(e) => {
          const input = e.currentTarget;
          const file = input.files?.[0];
          input.value = '';
          if (file) act(call.deck.upload(file));
        }}
      />
      <button type="button" id="leave" class="ctl danger" onClick={() => act(call.leave())}>
        <Icon name="leave" />
        <span class="ctl-text">{t('leave')}</span>
      </button>
    </nav>
  );
}
