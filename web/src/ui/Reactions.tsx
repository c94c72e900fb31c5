import type { Call } from '../call/Call.ts';
import { t } from '../i18n/i18n.ts';
import type { Reaction } from '../session.ts';
import { Icon } from './icons.tsx';
import { Menu } from './Menu.tsx';

/** Each reaction's picture; the protocol sends names only, so every client draws its own. */
const GLYPHS: Record<Reaction, string> = {
  thumbs_up: '👍',
  clap: '👏',
  laugh: '😂',
  heart: '❤️',
  party: '🎉',
  surprised: '😮',
};
const ORDER = Object.keys(GLYPHS) as Reaction[];

/** Raise hand and the reactions, behind one button so that a phone's bar keeps its room. */
export function ReactionsMenu({ call }: { call: Call }) {
  const store = call.store;
  const raised = (store.people.value.find((p) => p.self)?.hand ?? null) !== null;
  const fail = (work: Promise<unknown>) => {
    work.catch(() => store.say('actionFailed'));
  };
  return (
    <Menu
      label={raised ? t('handRaised') : t('reactions')}
      buttonClass={`ctl${raised ? ' raised' : ''}`}
      button={
        <>
          <Icon name={raised ? 'hand' : 'smile'} />
          <span class="ctl-text">{raised ? t('handRaised') : t('react')}</span>
        </>
      }
      up
      align="left"
    >
      {(close) => (
        <>
          <button
            type="button"
            role="menuitem"
            id="toggle-hand"
            onClick={() => {
              fail(store.setHand(!raised));
              close();
            }}
          >
            <Icon name="hand" /> {t(raised ? 'lowerHand' : 'raiseHand')}
          </button>
          <div class="reaction-row">
            {ORDER.map((reaction) => (
              <button
                key={reaction}
                type="button"
                role="menuitem"
                class="reaction-button"
                aria-label={t(`reaction_${reaction}`)}
                title={t(`reaction_${reaction}`)}
                onClick={() => {
                  fail(store.react(reaction));
                  close();
                }}
              >
                {GLYPHS[reaction]}
              </button>
            ))}
          </div>
        </>
      )}
    </Menu>
  );
}

/** Reactions floating over the stage for a few seconds, read out politely by screen readers. */
export function ReactionsOverlay({ call }: { call: Call }) {
  const shown = call.store.reactions.value;
  return (
    <ul class="reactions" aria-live="polite" aria-label={t('reactions')}>
      {shown.map((r) => (
        <li key={r.key} aria-label={t('reactionFrom', { reaction: t(`reaction_${r.reaction}`), name: r.name })}>
          <span class="reaction-glyph" aria-hidden="true">
            {GLYPHS[r.reaction]}
          </span>
          <span class="reaction-name" aria-hidden="true">
            {r.name}
          </span>
        </li>
      ))}
    </ul>
  );
}
