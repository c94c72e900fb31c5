import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisStateStore } from '../../common/state/RedisStateStore.ts';
import { MeetingRepository } from '../../meeting/MeetingRepository.ts';
import { REDIS_URL } from './config.ts';

/**
 * Media nodes close media whose meeting or seat the store does not know (reconciliation after
 * lost state), so the bench writes the records that the meeting tier writes on a real join.
 */
export class BenchSeats {
  readonly #repo: MeetingRepository;
  readonly #redis: Redis;

  constructor(prefix: string) {
    this.#redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    this.#repo = new MeetingRepository(new RedisStateStore(this.#redis, prefix));
  }

  async meeting(id: string): Promise<void> {
    const now = Date.now();
    await this.#repo.createMeeting({ id, title: id, pin: randomBytes(5).readUInt32BE(0).toString().padStart(9, '0'), hostKey: randomUUID(), settings: { maxParticipants: 10_000, locked: false }, createdAt: now });
  }

  async seat(meetingId: string, participantId: string): Promise<void> {
    await this.#repo.putParticipant({
      id: participantId,
      meetingId,
      name: participantId,
      role: 'guest',
      grants: { publishAudio: true, publishVideo: false, publishScreen: false, moderate: false },
      kind: 'bot',
      connection: 'connected',
      joinedAt: Date.now(),
    });
  }

  close(): void {
    this.#redis.disconnect();
  }
}
