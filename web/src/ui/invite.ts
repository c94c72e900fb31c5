import type { Call } from '../call/Call.ts';
import { inviteLink } from '../route.ts';

/** Copies the meeting link (never the host key) to the clipboard, and says so. */
export function copyInvite(call: Call): void {
  const link = inviteLink(location.origin, call.settings.meetingId);
  const copied = () => call.store.say('linkCopied');
  if (navigator.clipboard?.writeText) {
    navigator.clipboard.writeText(link).then(copied, () => fallback(link, copied));
  } else fallback(link, copied);
}

/** Where the Clipboard API is missing (plain HTTP, some in-app browsers): select and copy. */
function fallback(link: string, copied: () => void): void {
  const field = document.createElement('textarea');
  field.value = link;
  field.setAttribute('readonly', '');
  field.className = 'visually-hidden';
  document.body.append(field);
  field.select();
  // execCommand is deprecated but is the only copy left where the Clipboard API is absent.
  if (document.execCommand('copy')) copied();
  field.remove();
}
