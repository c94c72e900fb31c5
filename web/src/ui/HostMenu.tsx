import { useState } from 'preact/hooks';
import type { Call } from '../call/Call.ts';
import type { Person } from '../call/CallStore.ts';
import { moderate } from '../call/moderation.ts';
import { t } from '../i18n/i18n.ts';
import { Icon } from './icons.tsx';
import { Menu } from './Menu.tsx';

/** A host's tools for one person, on their tile and in the people list. */
export function HostMenu({ call, person }: { call: Call; person: Person }) {
  const name = person.info.name;
  const id = person.info.id;
  const [confirming, setConfirming] = useState(false);
  return (
    <Menu label={t('hostToolsFor', { name })} buttonClass="tile-menu" button={<Icon name="more" />}>
      {(close) =>
        confirming ? (
          <div role="alertdialog" aria-label={t('removeConfirm', { name })} class="confirm">
            <p>{t('removeConfirm', { name })}</p>
            <button
              type="button"
              role="menuitem"
              class="danger"
              onClick={() => {
                moderate(call, { action: 'remove', participantId: id });
                close();
              }}
            >
              {t('remove')}
            </button>
            <button
              type="button"
              role="menuitem"
              onClick={() => {
                setConfirming(false);
                close();
              }}
            >
              {t('cancel')}
            </button>
          </div>
        ) : (
          <>
            {person.mic === 'on' && (
              <button
                type="button"
                role="menuitem"
                onClick={() => {
                  moderate(call, { action: 'mute', participantId: id, source: 'mic' });
                  close();
                }}
              >
                {t('muteParticipant', { name })}
              </button>
            )}
            {person.camera && (
              <button
                type="button"
                role="menuitem"
                onClick={() => {
                  moderate(call, { action: 'mute', participantId: id, source: 'camera' });
                  close();
                }}
              >
                {t('stopCameraOf', { name })}
              </button>
            )}
            <button type="button" role="menuitem" class="danger-text" onClick={() => setConfirming(true)}>
              {t('removeParticipant', { name })}
            </button>
            {person.hand !== null && (
              <button
                type="button"
                role="menuitem"
                onClick={() => {
                  moderate(call, { action: 'lowerHand', participantId: id });
                  close();
                }}
              >
                {t('lowerHandOf', { name })}
              </button>
            )}
          </>
        )
      }
    </Menu>
  );
}
