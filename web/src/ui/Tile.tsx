import { useEffect, useRef } from 'preact/hooks';
import type { Call } from '../call/Call.ts';
import type { Person } from '../call/CallStore.ts';
import type { Quality } from '../call/quality.ts';
import { t } from '../i18n/i18n.ts';
import type { RemoteTrack } from '../session.ts';
import { HostMenu } from './HostMenu.tsx';
import { Icon } from './icons.tsx';
import { Video } from './Video.tsx';

export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  // CJK names have no spaces: their first character is the usual avatar.
  if (words.length === 1) return [...words[0]!].slice(0, /^[\p{Script=Han}]/u.test(words[0]!) ? 1 : 2).join('').toUpperCase();
  return (([...words[0]!][0] ?? '') + ([...words[words.length - 1]!][0] ?? '')).toUpperCase();
}

/** Receives a remote video only while its tile is on screen, at the layer its size needs. */
function useSubscription(call: Call, remote: RemoteTrack | undefined, ref: { current: HTMLElement | null }): void {
  useEffect(() => {
    const el = ref.current;
    if (!el || !remote) return;
    let visible = true;
    let height = el.clientHeight;
    const update = () => call.videos.want(remote, { visible, height });
    const intersection = new IntersectionObserver(([entry]) => {
      visible = entry?.isIntersecting ?? true;
      update();
    });
    const resize = new ResizeObserver(([entry]) => {
      height = entry?.contentRect.height ?? height;
      update();
    });
    intersection.observe(el);
    resize.observe(el);
    update();
    return () => {
      intersection.disconnect();
      resize.disconnect();
      call.videos.want(remote, { visible: false, height: 0 });
    };
  }, [remote?.consumerId]);
}

interface TileProps {
  call: Call;
  person: Person;
  speaking: boolean;
  quality?: Quality;
  width?: number;
  height?: number;
}

/** A person: their camera or their initials, their name, mute and connection, and host tools. */
export function Tile({ call, person, speaking, quality, width, height }: TileProps) {
  const ref = useRef<HTMLElement>(null);
  const remote = person.self ? undefined : person.cameraTrack;
  useSubscription(call, remote, ref);
  const name = person.info.name;
  const label = person.self ? t('selfName', { name }) : name;
  const selfTrack = call.media.cameraTrack.value;
  const track = person.camera ? (person.self ? selfTrack : person.cameraTrack?.track) : undefined;
  const size = width && height ? { width: `${width}px`, height: `${height}px` } : undefined;
  return (
    <figure
      ref={ref}
      class={`tile${speaking ? ' speaking' : ''}${track ? ' has-video' : ''}`}
      data-participant={person.info.id}
      data-source="camera"
      aria-label={label}
      style={size}
    >
      {track ? (
        <Video track={track} mirror={person.self && call.media.choice.value.facing === 'user'} />
      ) : (
        <div class="avatar" role="img" aria-label={t('cameraOffOf', { name })}>
          <span>{initials(name)}</span>
        </div>
      )}
      <figcaption class="tile-bar">
        {person.mic !== 'on' && (
          <span class="badge mic-off" role="img" aria-label={t('mutedOf', { name })} title={t('muted')}>
            <Icon name="micOff" />
          </span>
        )}
        {person.hand !== null && (
          <span class="badge hand" role="img" aria-label={t('handRaisedOf', { name })} title={t('handRaised')}>
            <Icon name="hand" />
          </span>
        )}
        <span class="tile-name">{label}</span>
        {person.info.role === 'host' && <span class="tag">{t('host')}</span>}
        {person.info.connection === 'reconnecting' && <span class="tag warn">{t('reconnectingShort')}</span>}
        {quality && (
          <span class={`quality q-${quality}`} role="img" aria-label={t('qualityOf', { quality: t(`quality_${quality}`) })}>
            <i />
            <i />
            <i />
          </span>
        )}
      </figcaption>
      {!person.self && call.store.canModerate && <HostMenu call={call} person={person} />}
    </figure>
  );
}

/** A shared screen, large: the browser's own picture of someone's screen or window. */
export function ScreenTile({ call, remote, track, label }: { call: Call; remote?: RemoteTrack; track: MediaStreamTrack; label: string }) {
  const ref = useRef<HTMLElement>(null);
  useSubscription(call, remote, ref);
  return (
    <figure ref={ref} class="tile screen has-video" data-source="screen" data-participant={remote?.participantId ?? call.store.selfId} aria-label={label}>
      <Video track={track} />
      <figcaption class="tile-bar">
        <Icon name="screen" />
        <span class="tile-name">{label}</span>
      </figcaption>
    </figure>
  );
}
