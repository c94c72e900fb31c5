import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call } from '../call/Call.ts';
import type { Person } from '../call/CallStore.ts';
import { t } from '../i18n/i18n.ts';
import { fitGrid, pageSize, paginate } from '../layout/grid.ts';
import { SlideStage } from './SlideStage.tsx';
import { ScreenTile, Tile } from './Tile.tsx';
import { useSize } from './useSize.ts';

const GAP = 8;

/**
 * The middle of the call. People in a grid that fills the space (paged beyond what fits), or,
 * while someone shares a screen or presents slides, that content large with people in a strip.
 */
export function Stage({ call }: { call: Call }) {
  const store = call.store;
  const people = store.people.value;
  const presentation = store.presentation.value;
  const ownScreen = call.media.screenTrack.value;
  const screens = people.flatMap((p) => (p.screenTrack ? [{ person: p, remote: p.screenTrack }] : []));
  const focus = presentation !== null || screens.length > 0 || ownScreen !== null;
  return (
    <section class={`stage ${focus ? 'focus' : 'grid'}`} aria-label={t('stage')}>
      {focus && (
        <div class="focus-main">
          {presentation ? (
            <SlideStage call={call} />
          ) : screens[0] ? (
            <ScreenTile call={call} remote={screens[0].remote} track={screens[0].remote.track} label={t('screenOf', { name: screens[0].person.info.name })} />
          ) : (
            ownScreen && <ScreenTile call={call} track={ownScreen} label={t('yourScreen')} />
          )}
        </div>
      )}
      {focus ? <Strip call={call} people={people} extraScreens={presentation ? screens : screens.slice(1)} /> : <Grid call={call} people={people} />}
    </section>
  );
}

function Grid({ call, people }: { call: Call; people: Person[] }) {
  const ref = useRef<HTMLDivElement>(null);
  const { width, height } = useSize(ref);
  const [page, setPage] = useState(0);
  const perPage = pageSize(width, height);
  const shown = paginate(people, perPage, page);
  const fit = fitGrid(shown.items.length, width, height - (shown.pages > 1 ? 52 : 0), GAP);
  useEffect(() => {
    if (shown.page !== page) setPage(shown.page);
  }, [shown.page]);
  // Cameras of people on other pages: no tile asks for them, so stop receiving them here.
  const onPage = new Set(shown.items.map((p) => p.info.id));
  useEffect(() => {
    for (const p of people) if (p.cameraTrack && !onPage.has(p.info.id)) call.videos.want(p.cameraTrack, { visible: false, height: 0 });
  });
  const speaker = call.store.activeSpeaker.value;
  const quality = call.quality.byParticipant.value;
  return (
    <div class="grid-area" ref={ref}>
      <section class="tiles" id="tiles" aria-label={t('participants')}>
        {width > 0 &&
          shown.items.map((p) => (
            <Tile key={p.info.id} call={call} person={p} speaking={speaker === p.info.id} quality={quality.get(p.info.id)} width={fit.tileWidth} height={fit.tileHeight} />
          ))}
      </section>
      {shown.pages > 1 && (
        <nav class="pager" aria-label={t('pages')}>
          <button type="button" disabled={shown.page === 0} onClick={() => setPage(shown.page - 1)}>
            {t('previousPage')}
          </button>
          <span>{t('pageNofM', { page: shown.page + 1, pages: shown.pages })}</span>
          <button type="button" disabled={shown.page === shown.pages - 1} onClick={() => setPage(shown.page + 1)}>
            {t('nextPage')}
          </button>
        </nav>
      )}
    </div>
  );
}

function Strip({ call, people, extraScreens }: { call: Call; people: Person[]; extraScreens: Array<{ person: Person; remote: NonNullable<Person['screenTrack']> }> }) {
  const speaker = call.store.activeSpeaker.value;
  const quality = call.quality.byParticipant.value;
  // The person speaking first: in a long strip they would otherwise be scrolled away.
  const ordered = speaker ? [...people].sort((a, b) => Number(b.info.id === speaker) - Number(a.info.id === speaker)) : people;
  return (
    <section class="strip tiles" id="tiles" aria-label={t('participants')}>
      {extraScreens.map((s) => (
        <ScreenTile key={s.remote.consumerId} call={call} remote={s.remote} track={s.remote.track} label={t('screenOf', { name: s.person.info.name })} />
      ))}
      {ordered.map((p) => (
        <Tile key={p.info.id} call={call} person={p} speaking={speaker === p.info.id} quality={quality.get(p.info.id)} />
      ))}
    </section>
  );
}
