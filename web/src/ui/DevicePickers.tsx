import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.ts';
import { type DeviceChoice, type DeviceLists, listDevices } from '../media/devices.ts';

interface Props {
  choice: DeviceChoice;
  onChoose(next: Partial<DeviceChoice>): void;
  /** Bumped when permission arrives, as labels and ids appear only then. */
  refresh?: unknown;
}

/** Microphone, camera and speaker selects; a list with one device or none is left out. */
export function DevicePickers({ choice, onChoose, refresh }: Props) {
  const [devices, setDevices] = useState<DeviceLists>({ mics: [], cameras: [], speakers: [] });
  useEffect(() => {
    const load = () => {
      listDevices().then(setDevices, () => undefined);
    };
    load();
    navigator.mediaDevices?.addEventListener('devicechange', load);
    return () => navigator.mediaDevices?.removeEventListener('devicechange', load);
  }, [refresh]);

  const select = (label: string, list: MediaDeviceInfo[], value: string | undefined, key: 'micId' | 'cameraId' | 'speakerId') =>
    list.length > 0 && (
      <label class="picker">
        {label}
        <select value={value ?? list[0]!.deviceId} onChange={(e) => onChoose({ [key]: (e.currentTarget as HTMLSelectElement).value })}>
          {list.map((d, i) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.label || t('deviceN', { n: i + 1 })}
            </option>
          ))}
        </select>
      </label>
    );

  return (
    <div class="pickers">
      {select(t('microphone'), devices.mics, choice.micId, 'micId')}
      {select(t('camera'), devices.cameras, choice.cameraId, 'cameraId')}
      {'setSinkId' in HTMLMediaElement.prototype && select(t('speaker'), devices.speakers, choice.speakerId, 'speakerId')}
    </div>
  );
}
