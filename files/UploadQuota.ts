import { AppError } from '../common/errors.ts';
import type { StateStore } from '../common/state/StateStore.ts';

/** Bytes set aside for an upload under way, until its file record takes their place. */
interface Hold {
  bytes: number;
  /** Participant id; null for a server with the API key, which only the meeting's cap limits. */
  by: string | null;
  until: number;
}

export interface UploadQuotaLimits {
  quotaBytes: number;
  uploadsPerMeeting: number;
  uploadsPerParticipant: number;
  /** A hold whose upload never settled (its api process died) lapses after this. */
  holdMs: number;
}

const ATTEMPTS = 100;

/**
 * A meeting's file quota, shared by every api process. What a meeting uses is its stored files
 * plus the holds of uploads under way; an upload reserves its declared size before its first
 * byte is written, in one compare-and-set on the meeting's holds, so parallel uploads cannot
 * all see the same free space. The same holds count uploads under way, which caps them per
 * meeting and per participant.
 *
 * Holds are written only by compare-and-set, and a finished upload writes its file record
 * before it drops its hold: a reservation that reads the holds and then the files therefore
 * never misses bytes (at worst it counts a settling upload twice, for a moment).
 */
export class UploadQuota {
  private readonly store: StateStore;
  private readonly storedBytes: (meetingId: string) => Promise<number>;
  private readonly limits: UploadQuotaLimits;
  constructor(store: StateStore, storedBytes: (meetingId: string) => Promise<number>, limits: UploadQuotaLimits) {
    this.store = store;
    this.storedBytes = storedBytes;
    this.limits = limits;
  }

  /**
   * Reserves up to `bytes` for upload `uploadId`: all of it, or what is left of the quota.
   * Returns the bytes granted: the most the upload may write.
   */
  async reserve(meetingId: string, uploadId: string, request: { bytes: number; by: string | null }): Promise<number> {
    const key = holdsKey(meetingId);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const raw = await this.store.get(key);
      const holds = live(raw);
      const under = Object.values(holds);
      if (under.length >= this.limits.uploadsPerMeeting) {
        throw new AppError('rate_limited', `${under.length} uploads are already under way in this meeting; try again when one has finished`);
      }
      if (request.by !== null && under.filter((h) => h.by === request.by).length >= this.limits.uploadsPerParticipant) {
        throw new AppError('rate_limited', `you already have ${this.limits.uploadsPerParticipant} uploads under way; try again when one has finished`);
      }
      const used = (await this.storedBytes(meetingId)) + under.reduce((sum, h) => sum + h.bytes, 0);
      const free = this.limits.quotaBytes - used;
      if (free <= 0) throw new AppError('quota_exceeded', `the meeting's file quota (${this.limits.quotaBytes} bytes) is used up`);
      const granted = Math.min(request.bytes, free);
      const next = { ...holds, [uploadId]: { bytes: granted, by: request.by, until: Date.now() + this.limits.holdMs } };
      if (await this.store.compareAndSet(key, raw, JSON.stringify(next), { ttlMs: this.limits.holdMs })) return granted;
      // Someone else reserved or settled meanwhile: read again, after a moment to spread retries.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * Math.min(attempt + 1, 10)));
    }
    throw new AppError('unavailable', 'too many uploads are starting in this meeting at once; try again');
  }

  /** Gives back a hold: the upload failed, or its file record now counts its real size. */
  async release(meetingId: string, uploadId: string): Promise<void> {
    const key = holdsKey(meetingId);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const raw = await this.store.get(key);
      if (raw === null) return;
      const holds = live(raw);
      const had = uploadId in holds;
      delete holds[uploadId];
      if (!had && Object.keys(holds).length === Object.keys(JSON.parse(raw) as object).length) return;
      const next = Object.keys(holds).length ? JSON.stringify(holds) : null;
      if (await this.store.compareAndSet(key, raw, next, { ttlMs: this.limits.holdMs })) return;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * Math.min(attempt + 1, 10)));
    }
    // Not fatal: the hold lapses by itself after holdMs.
    throw new Error(`could not release upload ${uploadId}'s quota hold in meeting ${meetingId}`);
  }
}

const holdsKey = (meetingId: string) => `meeting:${meetingId}:upload-holds`;

/** The holds in `raw` that have not lapsed. */
function live(raw: string | null): Record<string, Hold> {
  if (!raw) return {};
  const now = Date.now();
  return Object.fromEntries(Object.entries(JSON.parse(raw) as Record<string, Hold>).filter(([, h]) => h.until > now));
}
