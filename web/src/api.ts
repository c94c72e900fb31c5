// The public HTTP API calls the pages make before there is a client: look a meeting up, start one.

export interface MeetingLookup {
  id: string;
  title: string;
  requiresPassword: boolean;
  endedAt: number | null;
}

export type LookupResult = { kind: 'found'; meeting: MeetingLookup } | { kind: 'notFound' } | { kind: 'error'; message: string };

export async function lookUpMeeting(meetingId: string): Promise<LookupResult> {
  try {
    const res = await fetch(`/v1/meetings/${encodeURIComponent(meetingId)}`);
    if (res.status === 404 || res.status === 410) return { kind: 'notFound' };
    const body = (await res.json()) as MeetingLookup & { detail?: string };
    if (!res.ok) return { kind: 'error', message: body.detail ?? `HTTP ${res.status}` };
    return { kind: 'found', meeting: body };
  } catch (error) {
    return { kind: 'error', message: (error as Error).message };
  }
}

export interface StartedMeeting {
  id: string;
  hostKey: string;
}

/** Whether this site lets anyone start a meeting (open mode); if it cannot tell, it asks for the key. */
export async function siteIsOpen(): Promise<boolean> {
  try {
    const res = await fetch('/v1/site');
    return res.ok && ((await res.json()) as { openMeetings?: boolean }).openMeetings === true;
  } catch {
    return false;
  }
}

/** Creates a meeting with the operator's API key (typed in by a person; never stored), or without one in open mode. */
export async function startMeeting(apiKey: string, title: string): Promise<StartedMeeting> {
  const res = await fetch('/v1/meetings', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
    body: JSON.stringify(title ? { title } : {}),
  });
  const body = (await res.json().catch(() => ({}))) as Partial<StartedMeeting> & { detail?: string; code?: string };
  if (!res.ok || !body.id || !body.hostKey) throw new StartError(res.status, body.detail ?? `HTTP ${res.status}`);
  return { id: body.id, hostKey: body.hostKey };
}

export class StartError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}
