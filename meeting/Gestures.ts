import { RateLimiterMemory } from 'rate-limiter-flexible';
import { AppError } from '../common/errors.ts';
import type { ParticipantInfo, Reaction } from '../protocol/src/index.ts';
import { withAdmission } from './admission.ts';
import { type GestureApi, publicParticipant } from './contract.ts';
import type { MeetingEvents } from './MeetingEvents.ts';
import type { MeetingRepository } from './MeetingRepository.ts';

export interface GestureOptions {
  lockWaitMs: number;
  reactionsPer10s: number;
}

/**
 * Raised hands and reactions: what people signal without speaking. A hand is part of the seat
 * (late joiners see it, a host can lower it, and it is written under the admission lock so a
 * concurrent rejoin cannot undo it); a reaction passes by and is not kept.
 */
export class Gestures implements GestureApi {
  private readonly repo: MeetingRepository;
  private readonly events: MeetingEvents;
  private readonly options: GestureOptions;
  // In memory on purpose: a participant's socket lives on one push node, so its count lives there too.
  readonly #reactions: RateLimiterMemory;
  constructor(repo: MeetingRepository, events: MeetingEvents, options: GestureOptions) {
    this.repo = repo;
    this.events = events;
    this.options = options;
    this.#reactions = new RateLimiterMemory({ points: options.reactionsPer10s, duration: 10 });
  }

  async setHand(meetingId: string, participantId: string, raised: boolean): Promise<ParticipantInfo> {
    const { participant, changed } = await withAdmission(
      this.repo.store,
      meetingId,
      async () => {
        const before = await this.repo.getParticipant(meetingId, participantId);
        if (!before) throw new AppError('participant_not_found', `participant ${participantId} is not in the meeting`);
        const wasRaised = typeof before.handRaisedAt === 'number';
        // Raising a raised hand keeps its place in the queue.
        if (wasRaised === raised) return { participant: before, changed: false };
        const after = { ...before, handRaisedAt: raised ? Date.now() : null };
        await this.repo.putParticipant(after, before);
        return { participant: after, changed: true };
      },
      this.options.lockWaitMs,
    );
    const info = publicParticipant(participant);
    if (changed) await this.events.publish(meetingId, { event: 'participantUpdated', payload: { participant: info } });
    return info;
  }

  async react(meetingId: string, participantId: string, reaction: Reaction): Promise<{ reaction: Reaction; at: number }> {
    await this.#reactions.consume(`${meetingId}:${participantId}`).catch(() => {
      throw new AppError('rate_limited', `at most ${this.options.reactionsPer10s} reactions in 10 seconds`);
    });
    const at = Date.now();
    await this.events.publish(meetingId, { event: 'reaction', payload: { participantId, reaction, at }, except: participantId });
    return { reaction, at };
  }
}
