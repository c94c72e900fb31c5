import type { StateStore } from '../common/state/StateStore.ts';
import type { ChatMessage, Presentation, ProducerInfo } from '../protocol/src/index.ts';
import type { MeetingRecord, ParticipantRecord } from './records.ts';

const CHAT_HISTORY = 200;

/** Where meeting state lives in the StateStore; the only module that knows the key layout. */
export class MeetingRepository {
  readonly store: StateStore;
  constructor(store: StateStore) {
    this.store = store;
  }

  async getMeeting(id: string): Promise<MeetingRecord | null> {
    const raw = await this.store.get(`meeting:${id}`);
    return raw ? (JSON.parse(raw) as MeetingRecord) : null;
  }

  async createMeeting(meeting: MeetingRecord): Promise<boolean> {
    const created = await this.store.set(`meeting:${meeting.id}`, JSON.stringify(meeting), { onlyIfAbsent: true });
    if (created) await this.store.setAdd('meetings:live', meeting.id);
    return created;
  }

  /**
   * Read-modify-write with compare-and-set, retried on conflict: two nodes changing settings at
   * once never lose each other's write. The record keeps its expiry: a write that lands after
   * the end (a placement or settings change begun just before it) must not make it permanent.
   */
  async updateMeeting(id: string, change: (meeting: MeetingRecord) => MeetingRecord | null): Promise<MeetingRecord | null> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const raw = await this.store.get(`meeting:${id}`);
      if (!raw) return null;
      const next = change(JSON.parse(raw) as MeetingRecord);
      if (!next) return JSON.parse(raw) as MeetingRecord;
      const ttl = await this.store.ttl(`meeting:${id}`);
      if (ttl === -2) return null;
      // 0 is a record expiring this very millisecond: let it go rather than keep it forever.
      if (ttl === 0) continue;
      if (await this.store.compareAndSet(`meeting:${id}`, raw, JSON.stringify(next), ttl > 0 ? { ttlMs: ttl } : {})) return next;
    }
    throw new Error(`meeting ${id} changed too often to update`);
  }

  async liveMeetingIds(): Promise<string[]> {
    return this.store.setMembers('meetings:live');
  }

  /** A live meeting whose record is gone (written by an older version, or lost): nothing to end. */
  async forgetLive(id: string): Promise<void> {
    await this.store.setRemove('meetings:live', id);
  }

  /**
   * Gives back what an ended meeting held: its PIN at once (owner-only, so a PIN already
   * reissued is left alone), its presentation, producers and chat; the record and the (by now
   * empty) seat hash expire after `retainMs`. Files are the files tier's: its cleaner removes
   * them `FILES_RETENTION_MS` after the end.
   */
  async markEnded(meeting: Pick<MeetingRecord, 'id' | 'pin'>, retainMs: number): Promise<void> {
    const { id } = meeting;
    await this.store.compareAndSet(`pin:${meeting.pin}`, id, null);
    for (const key of [`meeting:${id}:presentation`, `meeting:${id}:producers`, `meeting:${id}:chat`]) await this.store.del(key);
    // Removed ids, revoked tokens and banned origins keep refusing their owners as long as the
    // record is readable; after that the meeting itself refuses everyone.
    for (const jti of await this.store.setMembers(`meeting:${id}:revoked`)) await this.store.expire(`token:revoked:${jti}`, retainMs);
    for (const key of [`meeting:${id}`, `meeting:${id}:participants`, `meeting:${id}:removed`, `meeting:${id}:revoked`, `meeting:${id}:banned-origins`]) {
      await this.store.expire(key, retainMs);
    }
    await this.store.setRemove('meetings:live', id);
  }

  async claimPin(pin: string, meetingId: string): Promise<boolean> {
    return this.store.set(`pin:${pin}`, meetingId, { onlyIfAbsent: true });
  }

  async meetingIdForPin(pin: string): Promise<string | null> {
    return this.store.get(`pin:${pin}`);
  }

  async getParticipant(meetingId: string, participantId: string): Promise<ParticipantRecord | null> {
    const raw = await this.store.hashGet(`meeting:${meetingId}:participants`, participantId);
    return raw ? (JSON.parse(raw) as ParticipantRecord) : null;
  }

  /**
   * Writes a participant and keeps the per-node indexes right, so that the loss of a media or
   * push node finds its participants without scanning every meeting.
   */
  async putParticipant(record: ParticipantRecord, previous?: ParticipantRecord | null): Promise<void> {
    await this.store.hashSet(`meeting:${record.meetingId}:participants`, record.id, JSON.stringify(record));
    await this.#reindex(record.meetingId, record.id, previous ?? undefined, record);
  }

  async removeParticipant(meetingId: string, participantId: string): Promise<boolean> {
    const previous = await this.getParticipant(meetingId, participantId);
    await this.store.setRemove('participants:reconnecting', `${meetingId}/${participantId}`);
    await this.#reindex(meetingId, participantId, previous ?? undefined, undefined);
    const removed = await this.store.hashDel(`meeting:${meetingId}:participants`, participantId);
    // The last one out starts the idle clock (MEETING_IDLE_END_MS).
    if (removed && (await this.participantCount(meetingId)) === 0) {
      await this.updateMeeting(meetingId, (m) => (m.endedAt === undefined ? { ...m, emptySince: Date.now() } : null));
    }
    return removed;
  }

  /** Node ids that host or once hosted participants. */
  async indexedNodes(kind: 'media' | 'push'): Promise<string[]> {
    return this.store.setMembers(`nodes:${kind}:indexed`);
  }

  async participantsOnNode(kind: 'media' | 'push', nodeId: string): Promise<Array<{ meetingId: string; participantId: string }>> {
    return (await this.store.setMembers(`node:${kind}:${nodeId}:participants`)).map(splitMember);
  }

  async forgetNode(kind: 'media' | 'push', nodeId: string): Promise<void> {
    await this.store.del(`node:${kind}:${nodeId}:participants`);
    await this.store.setRemove(`nodes:${kind}:indexed`, nodeId);
  }

  async #reindex(meetingId: string, participantId: string, before: ParticipantRecord | undefined, after: ParticipantRecord | undefined): Promise<void> {
    const member = `${meetingId}/${participantId}`;
    for (const [kind, field] of [
      ['media', 'mediaNodeId'],
      ['push', 'pushNodeId'],
    ] as const) {
      const was = before?.[field];
      const now = after?.[field];
      if (was && was !== now) await this.store.setRemove(`node:${kind}:${was}:participants`, member);
      if (now) {
        await this.store.setAdd(`node:${kind}:${now}:participants`, member);
        await this.store.setAdd(`nodes:${kind}:indexed`, now);
      }
    }
  }

  async participantCount(meetingId: string): Promise<number> {
    return this.store.hashLength(`meeting:${meetingId}:participants`);
  }

  /** Who holds a seat, in one read: what reconciliation walks every few seconds. */
  async seatedIds(meetingId: string): Promise<Set<string>> {
    return new Set(Object.keys(await this.store.hashGetAll(`meeting:${meetingId}:participants`)));
  }

  async listParticipants(meetingId: string): Promise<ParticipantRecord[]> {
    const all = await this.store.hashGetAll(`meeting:${meetingId}:participants`);
    return Object.values(all)
      .map((raw) => JSON.parse(raw) as ParticipantRecord)
      .sort((a, b) => a.joinedAt - b.joinedAt);
  }

  async markReconnecting(meetingId: string, participantId: string, on: boolean): Promise<void> {
    const member = `${meetingId}/${participantId}`;
    if (on) await this.store.setAdd('participants:reconnecting', member);
    else await this.store.setRemove('participants:reconnecting', member);
  }

  async reconnecting(): Promise<Array<{ meetingId: string; participantId: string }>> {
    return (await this.store.setMembers('participants:reconnecting')).map(splitMember);
  }

  async putProducer(meetingId: string, producer: ProducerInfo): Promise<void> {
    await this.store.hashSet(`meeting:${meetingId}:producers`, producer.id, JSON.stringify(producer));
  }

  async getProducer(meetingId: string, producerId: string): Promise<ProducerInfo | null> {
    const raw = await this.store.hashGet(`meeting:${meetingId}:producers`, producerId);
    return raw ? (JSON.parse(raw) as ProducerInfo) : null;
  }

  async removeProducer(meetingId: string, producerId: string): Promise<boolean> {
    return this.store.hashDel(`meeting:${meetingId}:producers`, producerId);
  }

  async listProducers(meetingId: string): Promise<ProducerInfo[]> {
    const all = await this.store.hashGetAll(`meeting:${meetingId}:producers`);
    return Object.values(all).map((raw) => JSON.parse(raw) as ProducerInfo);
  }

  async appendChat(meetingId: string, message: ChatMessage): Promise<void> {
    await this.store.listPush(`meeting:${meetingId}:chat`, JSON.stringify(message), { maxLength: CHAT_HISTORY });
  }

  async chatHistory(meetingId: string): Promise<ChatMessage[]> {
    const raw = await this.store.listRange(`meeting:${meetingId}:chat`, 0, -1);
    return raw.map((r) => JSON.parse(r) as ChatMessage);
  }

  /** Removed participant ids, kept for the meeting's life: their tokens no longer seat them. */
  async markRemoved(meetingId: string, participantId: string): Promise<void> {
    await this.store.setAdd(`meeting:${meetingId}:removed`, participantId);
  }

  async wasRemoved(meetingId: string, participantId: string): Promise<boolean> {
    return (await this.store.setMembers(`meeting:${meetingId}:removed`)).includes(participantId);
  }

  /** Address fingerprints a host banned: no new join token for them in this meeting. */
  async banOrigin(meetingId: string, origin: string): Promise<void> {
    await this.store.setAdd(`meeting:${meetingId}:banned-origins`, origin);
  }

  async isOriginBanned(meetingId: string, origin: string): Promise<boolean> {
    return (await this.store.setMembers(`meeting:${meetingId}:banned-origins`)).includes(origin);
  }

  /**
   * A token that must no longer be accepted, remembered as long as it would have been valid, or
   * until its meeting's record is gone (markEnded), after which the token opens nothing anyway.
   */
  async revokeToken(meetingId: string, jti: string, expiresAtMs: number): Promise<void> {
    const ttlMs = expiresAtMs - Date.now();
    if (ttlMs <= 0) return;
    await this.store.set(`token:revoked:${jti}`, '1', { ttlMs });
    await this.store.setAdd(`meeting:${meetingId}:revoked`, jti);
  }

  async isTokenRevoked(jti: string): Promise<boolean> {
    return (await this.store.get(`token:revoked:${jti}`)) !== null;
  }

  async presentation(meetingId: string): Promise<Presentation | null> {
    const raw = await this.store.get(`meeting:${meetingId}:presentation`);
    return raw ? (JSON.parse(raw) as Presentation) : null;
  }

  async setPresentation(meetingId: string, presentation: Presentation | null): Promise<void> {
    if (presentation) await this.store.set(`meeting:${meetingId}:presentation`, JSON.stringify(presentation));
    else await this.store.del(`meeting:${meetingId}:presentation`);
  }
}


function splitMember(member: string): { meetingId: string; participantId: string } {
  const [meetingId = '', participantId = ''] = member.split('/');
  return { meetingId, participantId };
}
