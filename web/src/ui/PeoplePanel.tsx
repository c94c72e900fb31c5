import { useState } from 'preact/hooks';
import type { Call } from '../call/Call.ts';
import { moderate } from '../call/moderation.ts';
import { t } from '../i18n/i18n.ts';
import { inviteLink } from '../route.ts';
import { HostMenu } from './HostMenu.tsx';
import { Icon } from './icons.tsx';
import { copyInvite } from './invite.ts';

/** Everyone in the meeting with their state; the invite link; a host's meeting-wide tools. */
export function PeoplePanel({ call }: { call: Call }) {
  const store = call.store;
  // Raised hands first, in the order they went up: the queue a host takes questions from.
  const people = [...store.people.value].sort((a, b) => (a.hand ?? Number.POSITIVE_INFINITY) - (b.hand ?? Number.POSITIVE_INFINITY));
  const locked = store.meeting.value?.locked ?? false;
  const [confirmEnd, setConfirmEnd] = useState(false);
  return (
    <section class="panel-body people" aria-label={t('people')}>
      <h2>{t('peopleCount', { n: people.length })}</h2>
      <div class="invite">
        <input readOnly value={inviteLink(location.origin, call.settings.meetingId)} aria-label={t('inviteLink')} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={() => copyInvite(call)}>
          {t('copyInvite')}
        </button>
      </div>
      {store.canModerate && (
        <fieldset class="host-tools">
          <legend class="visually-hidden">{t('hostTools')}</legend>
          <button type="button" aria-pressed={locked} onClick={() => moderate(call, { action: 'lock', locked: !locked })}>
            {t(locked ? 'unlockMeeting' : 'lockMeeting')}
          </button>
          {confirmEnd ? (
            <span role="alertdialog" aria-label={t('endConfirm')} class="confirm">
              <span>{t('endConfirm')}</span>
              <button type="button" class="danger" onClick={() => moderate(call, { action: 'end' })}>
                {t('endForAll')}
              </button>
              <button type="button" onClick={() => setConfirmEnd(false)}>
                {t('cancel')}
              </button>
            </span>
          ) : (
            <button type="button" class="danger" onClick={() => setConfirmEnd(true)}>
              {t('endForAll')}
            </button>
          )}
        </fieldset>
      )}
      {locked && <p class="muted">{t('lockedNote')}</p>}
      <ul class="people-list">
        {people.map((p) => (
          <li key={p.info.id} data-participant={p.info.id} aria-label={p.self ? t('selfName', { name: p.info.name }) : p.info.name}>
            <span class="person-name">
              {p.self ? t('selfName', { name: p.info.name }) : p.info.name}
              {p.info.role === 'host' && <span class="tag">{t('host')}</span>}
              {p.info.connection === 'reconnecting' && <span class="tag warn">{t('reconnectingShort')}</span>}
            </span>
            <span class="person-state">
              {p.hand !== null && (
                <span role="img" class="hand" aria-label={t('handRaisedOf', { name: p.info.name })}>
                  <Icon name="hand" />
                </span>
              )}
              {p.mic !== 'on' && (
                <span role="img" aria-label={t('mutedOf', { name: p.info.name })}>
                  <Icon name="micOff" />
                </span>
              )}
              {!p.camera && (
                <span role="img" aria-label={t('cameraOffOf', { name: p.info.name })}>
                  <Icon name="cameraOff" />
                </span>
              )}
              {!p.self && store.canModerate && <HostMenu call={call} person={p} />}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
