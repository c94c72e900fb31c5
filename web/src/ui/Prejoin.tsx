import { useSignal } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { MeetingLookup } from '../api.ts';
import type { JoinSettings } from '../call/Call.ts';
import { t } from '../i18n/i18n.ts';
import { type DeviceChoice, MediaError, type MediaProblem, openCamera, openMic } from '../media/devices.ts';
import { LevelMeter } from '../media/LevelMeter.ts';
import { DevicePickers } from './DevicePickers.tsx';
import { Icon } from './icons.tsx';
import { LanguagePicker } from './LanguagePicker.tsx';
import { problemText } from './messages.ts';
import { Video } from './Video.tsx';

interface Props {
  meeting: MeetingLookup;
  initialName: string;
  hostKey?: string;
  error?: string;
  onJoin(settings: Omit<JoinSettings, 'meetingId'>): Promise<void>;
}

/** Before joining: see yourself, hear the meter move, pick devices and a name, choose mic and camera. */
export function Prejoin({ meeting, initialName, hostKey, error, onJoin }: Props) {
  const name = useSignal(initialName);
  const password = useSignal('');
  const [micOn, setMicOn] = useState(true);
  const [camOn, setCamOn] = useState(true);
  const [choice, setChoice] = useState<DeviceChoice>({ facing: 'user' });
  const [camTrack, setCamTrack] = useState<MediaStreamTrack | null>(null);
  const [micTrack, setMicTrack] = useState<MediaStreamTrack | null>(null);
  const [problem, setProblem] = useState<MediaProblem | null>(null);
  const level = useSignal(0);
  const joining = useSignal(false);
  const joinError = useSignal(error ?? '');
  const handedOver = useRef(false);

  // The preview camera: opened while the camera is to be on, reopened when another is picked.
  useEffect(() => {
    if (!camOn) return;
    let track: MediaStreamTrack | undefined;
    let live = true;
    openCamera(choice).then(
      (opened) => {
        if (!live) return opened.stop();
        track = opened;
        setCamTrack(opened);
        setProblem(null);
      },
      (e: unknown) => live && setProblem(e instanceof MediaError ? e.problem : 'failed'),
    );
    return () => {
      live = false;
      if (track && !handedOver.current) track.stop();
      setCamTrack(null);
    };
  }, [camOn, choice.cameraId, choice.facing]);

  // The microphone, for the level meter; kept open (muted or not) to hand over on joining.
  useEffect(() => {
    let track: MediaStreamTrack | undefined;
    let meter: LevelMeter | undefined;
    let live = true;
    openMic(choice).then(
      (opened) => {
        if (!live) return opened.stop();
        track = opened;
        setMicTrack(opened);
        meter = new LevelMeter(opened, (l) => (level.value = l));
      },
      (e: unknown) => live && setProblem((p) => p ?? (e instanceof MediaError ? e.problem : 'failed')),
    );
    return () => {
      live = false;
      meter?.close();
      if (track && !handedOver.current) track.stop();
      setMicTrack(null);
    };
  }, [choice.micId]);

  const join = async () => {
    joining.value = true;
    joinError.value = '';
    handedOver.current = true;
    try {
      await onJoin({
        name: name.value.trim(),
        password: password.value,
        hostKey,
        mic: micOn,
        camera: camOn,
        choice,
        micTrack: micTrack ?? undefined,
        cameraTrack: camOn ? (camTrack ?? undefined) : undefined,
      });
    } catch (e) {
      handedOver.current = false;
      joinError.value = (e as Error).message;
      joining.value = false;
    }
  };

  return (
    <main class="page prejoin">
      <header class="page-head">
        <h1>{meeting.title || t('appName')}</h1>
        <LanguagePicker />
      </header>
      <div class="prejoin-body">
        <section class="preview" aria-label={t('preview')}>
          {camOn && camTrack ? <Video track={camTrack} mirror={choice.facing === 'user'} label={t('preview')} /> : <div class="preview-off">{t('cameraIsOff')}</div>}
          <div class="preview-toggles">
            <button type="button" class={`round ${micOn ? '' : 'off'}`} aria-pressed={micOn} aria-label={t('microphone')} title={t(micOn ? 'turnMicOff' : 'turnMicOn')} onClick={() => setMicOn(!micOn)}>
              <Icon name={micOn ? 'mic' : 'micOff'} />
            </button>
            <button type="button" class={`round ${camOn ? '' : 'off'}`} aria-pressed={camOn} aria-label={t('camera')} title={t(camOn ? 'turnCameraOff' : 'turnCameraOn')} onClick={() => setCamOn(!camOn)}>
              <Icon name={camOn ? 'camera' : 'cameraOff'} />
            </button>
          </div>
          <meter class="level" min={0} max={1} value={micOn ? level.value : 0} aria-label={t('micLevel')} />
        </section>
        <section class="join-panel">
          {problem && (
            <p class="problem" role="alert">
              {problemText(problem)}
            </p>
          )}
          <DevicePickers choice={choice} onChoose={(next) => setChoice({ ...choice, ...next })} refresh={`${camTrack?.id}${micTrack?.id}`} />
          <form
            id="join-form"
            onSubmit={(e) => {
              e.preventDefault();
              join().catch(() => undefined);
            }}
          >
            <label>
              {t('yourName')}
              <input id="name" name="name" required maxLength={64} autoComplete="name" value={name.value} onInput={(e) => (name.value = e.currentTarget.value)} />
            </label>
            {meeting.requiresPassword && !hostKey && (
              <label>
                {t('password')}
                <input id="password" name="password" type="password" value={password.value} onInput={(e) => (password.value = e.currentTarget.value)} />
              </label>
            )}
            <button id="join" type="submit" class="primary" disabled={joining.value}>
              {joining.value ? t('joining') : t('joinMeeting')}
            </button>
          </form>
          <p class="error" role="alert">
            {joinError.value}
          </p>
        </section>
      </div>
    </main>
  );
}
