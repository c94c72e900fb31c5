import { useEffect, useState } from 'preact/hooks';
import { type LookupResult, lookUpMeeting } from '../api.ts';
import { Call, type JoinSettings } from '../call/Call.ts';
import { lang, t } from '../i18n/i18n.ts';
import type { Route } from '../route.ts';
import { CallView } from './CallView.tsx';
import { EndScreen } from './EndScreen.tsx';
import { Home } from './Home.tsx';
import { Notice } from './Notice.tsx';
import { joinErrorText } from './messages.ts';
import { Prejoin } from './Prejoin.tsx';

type Screen =
  | { kind: 'loading' }
  | { kind: 'lookup'; result: Exclude<LookupResult, { kind: 'found' }> }
  | { kind: 'prejoin'; error?: string }
  | { kind: 'joining' }
  | { kind: 'call'; call: Call };

/** The page: start page, or for a meeting link its prejoin, call and end screens. */
export function App({ route }: { route: Route }) {
  const [screen, setScreen] = useState<Screen>({ kind: 'loading' });
  const [meeting, setMeeting] = useState<Extract<LookupResult, { kind: 'found' }>['meeting']>();
  const [last, setLast] = useState<Omit<JoinSettings, 'micTrack' | 'cameraTrack'>>();

  useEffect(() => {
    document.documentElement.lang = lang.value === 'zh' ? 'zh-CN' : 'en';
    document.title = meeting?.title ? `${meeting.title} · ${t('appName')}` : t('appName');
  }, [lang.value, meeting]);

  const join = async (settings: JoinSettings) => {
    const call = await Call.join(settings);
    setLast({ ...settings, micTrack: undefined, cameraTrack: undefined } as JoinSettings);
    setScreen({ kind: 'call', call });
    await call.startMedia();
  };

  useEffect(() => {
    if (!route.meetingId) return;
    const meetingId = route.meetingId;
    lookUpMeeting(meetingId).then(
      (result) => {
        if (result.kind !== 'found' || result.meeting.endedAt) {
          setScreen({ kind: 'lookup', result: result.kind === 'found' ? { kind: 'notFound' } : result });
          if (result.kind === 'found') setMeeting(result.meeting);
          return;
        }
        setMeeting(result.meeting);
        if (!(route.autojoin && route.name)) return setScreen({ kind: 'prejoin' });
        // Straight in, as a link with ?name=…&autojoin=1 asks (tests, kiosks).
        setScreen({ kind: 'joining' });
        const media = !route.nomedia;
        join({ meetingId, name: route.name, hostKey: route.hostKey, mic: media, camera: media, choice: { facing: 'user' }, relay: route.relay, videoCodecs: route.videoCodecs }).catch((e: unknown) =>
          setScreen({ kind: 'prejoin', error: joinErrorText(e) }),
        );
      },
      () => setScreen({ kind: 'lookup', result: { kind: 'error', message: '' } }),
    );
  }, []);

  if (!route.meetingId) return <Home />;

  switch (screen.kind) {
    case 'loading':
    case 'joining':
      return (
        <main class="page center" aria-busy="true">
          <p>{t(screen.kind === 'joining' ? 'joining' : 'loading')}</p>
        </main>
      );
    case 'lookup':
      return <EndScreen kind={meeting?.endedAt ? 'endedBefore' : screen.result.kind === 'notFound' ? 'notFound' : 'unreachable'} title={meeting?.title} />;
    case 'prejoin':
      return (
        <Prejoin
          meeting={meeting!}
          initialName={route.name ?? ''}
          hostKey={route.hostKey}
          error={screen.error}
          onJoin={(settings) =>
            join({ ...settings, meetingId: route.meetingId!, relay: route.relay, videoCodecs: route.videoCodecs }).catch((e: unknown) => {
              throw new Error(joinErrorText(e));
            })
          }
        />
      );
    case 'call': {
      const ending = screen.call.store.ending.value;
      if (ending) {
        const rejoin =
          (ending === 'left' || ending === 'lost') && last
            ? () => {
                setScreen({ kind: 'joining' });
                join(last).catch((e: unknown) => setScreen({ kind: 'prejoin', error: joinErrorText(e) }));
              }
            : undefined;
        return <EndScreen kind={ending} title={meeting?.title} onRejoin={rejoin} />;
      }
      return (
        <>
          <CallView call={screen.call} />
          <Notice store={screen.call.store} />
        </>
      );
    }
  }
}
