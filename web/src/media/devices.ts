export type MediaProblem = 'denied' | 'notFound' | 'inUse' | 'insecure' | 'failed';

export interface DeviceChoice {
  micId?: string;
  cameraId?: string;
  speakerId?: string;
  /** Front or back camera on phones; used when no camera is picked by id. */
  facing: 'user' | 'environment';
}

export interface DeviceLists {
  mics: MediaDeviceInfo[];
  cameras: MediaDeviceInfo[];
  speakers: MediaDeviceInfo[];
}

/** Why getUserMedia failed, in the terms a person can act on. */
export function problemOf(error: unknown): MediaProblem {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'denied';
  if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') return 'notFound';
  if (name === 'NotReadableError' || name === 'TrackStartError') return 'inUse';
  return 'failed';
}

export class MediaError extends Error {
  readonly problem: MediaProblem;
  constructor(problem: MediaProblem, cause?: unknown) {
    super(problem, { cause });
    this.problem = problem;
  }
}

export function hasMediaDevices(): boolean {
  return typeof navigator !== 'undefined' && navigator.mediaDevices?.getUserMedia !== undefined;
}

export async function listDevices(): Promise<DeviceLists> {
  const all = hasMediaDevices() ? await navigator.mediaDevices.enumerateDevices() : [];
  // Before permission, browsers list devices without ids or labels: nothing to pick from yet.
  const real = all.filter((d) => d.deviceId !== '');
  return {
    mics: real.filter((d) => d.kind === 'audioinput'),
    cameras: real.filter((d) => d.kind === 'videoinput'),
    speakers: real.filter((d) => d.kind === 'audiooutput'),
  };
}

export async function openMic(choice: DeviceChoice): Promise<MediaStreamTrack> {
  const stream = await acquire({ audio: choice.micId ? { deviceId: { exact: choice.micId } } : { echoCancellation: true, noiseSuppression: true } });
  return stream.getAudioTracks()[0]!;
}

export async function openCamera(choice: DeviceChoice): Promise<MediaStreamTrack> {
  const size = { width: { ideal: 1280 }, height: { ideal: 720 } };
  const video = choice.cameraId ? { ...size, deviceId: { exact: choice.cameraId } } : { ...size, facingMode: choice.facing };
  const stream = await acquire({ video });
  return stream.getVideoTracks()[0]!;
}

async function acquire(constraints: MediaStreamConstraints): Promise<MediaStream> {
  if (!hasMediaDevices()) throw new MediaError(typeof isSecureContext !== 'undefined' && !isSecureContext ? 'insecure' : 'notFound');
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (error) {
    throw new MediaError(problemOf(error), error);
  }
}

/** Screen sharing exists on desktops only; phones and in-app browsers lack or fake it. */
export function canShareScreen(): boolean {
  if (typeof navigator === 'undefined' || typeof navigator.mediaDevices?.getDisplayMedia !== 'function') return false;
  const phoneLike = /Android|iPhone|iPad|iPod|Mobile|MicroMessenger/i.test(navigator.userAgent);
  return !phoneLike && !matchMedia('(pointer: coarse)').matches;
}

/** A phone or tablet: a touch screen as the main pointer. */
export function isTouchDevice(): boolean {
  return typeof matchMedia !== 'undefined' && matchMedia('(pointer: coarse)').matches;
}
