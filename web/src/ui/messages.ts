import { type Key, t } from '../i18n/i18n.ts';
import type { MediaProblem } from '../media/devices.ts';

const PROBLEMS: Record<MediaProblem, Key> = {
  denied: 'problemDenied',
  notFound: 'problemNotFound',
  inUse: 'problemInUse',
  insecure: 'problemInsecure',
  failed: 'problemFailed',
};

export function problemText(problem: MediaProblem): string {
  return t(PROBLEMS[problem]);
}

const JOIN_ERRORS: Record<string, Key> = {
  wrong_password: 'errorWrongPassword',
  meeting_locked: 'errorLocked',
  meeting_full: 'errorFull',
  meeting_ended: 'errorEnded',
  meeting_not_found: 'errorNotFound',
  banned: 'errorBanned',
  forbidden: 'errorHostKey',
};

/** A join failure in the person's language where we know the code, else the server's words. */
export function joinErrorText(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  const key = code ? JOIN_ERRORS[code] : undefined;
  return key ? t(key) : t('errorJoin', { reason: (error as Error).message });
}
