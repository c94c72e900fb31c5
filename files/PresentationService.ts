import { AppError } from '../common/errors.ts';
import type { Presentation } from '../protocol/src/index.ts';
import type { MeetingEventSink, ParticipantRecord, PresentationState } from '../meeting/contract.ts';
import type { Presentations } from './contract.ts';
import type { FileRepository } from './FileRepository.ts';

/** Who presents which deck on which page. Page turns reach everyone through the meeting's events. */
export class PresentationService implements Presentations {
  private readonly meetings: PresentationState;
  private readonly files: FileRepository;
  private readonly events: MeetingEventSink;
  constructor(
    meetings: PresentationState,
    files: FileRepository,
    events: MeetingEventSink,
  ) {
    this.meetings = meetings;
    this.files = files;
    this.events = events;
  }

  async start(who: ParticipantRecord, fileId: string, page?: number): Promise<Presentation> {
    if (who.grants.present === false) throw new AppError('forbidden', 'you may not present');
    const file = await this.files.get(fileId);
    if (!file || file.meetingId !== who.meetingId) throw new AppError('not_found', `file ${fileId} does not exist in this meeting`);
    if (file.pages.length === 0) throw new AppError('not_ready', `file ${fileId} has no converted pages yet (${file.status})`);
    const first = page ?? file.pages[0]!;
    if (!file.pages.includes(first)) throw new AppError('bad_request', `page ${first} is not available`);
    // Taking over someone else's running presentation is a host's decision, not any guest's.
    const running = await this.meetings.presentation(who.meetingId);
    if (running && running.presenterId !== who.id && !who.grants.moderate) {
      throw new AppError('forbidden', 'someone else is presenting; only a host may replace it');
    }
    return this.#set(who.meetingId, { fileId, page: first, pageCount: file.pageCount, presenterId: who.id });
  }

  async turn(who: ParticipantRecord, page: number): Promise<Presentation> {
    const current = await this.#current(who);
    if (page < 1 || page > current.pageCount) throw new AppError('bad_request', `the deck has pages 1 to ${current.pageCount}`);
    return this.#set(who.meetingId, { ...current, page });
  }

  async stop(who: ParticipantRecord): Promise<void> {
    await this.#current(who);
    await this.meetings.setPresentation(who.meetingId, null);
    await this.events.publish(who.meetingId, { event: 'presentation', payload: { presentation: null } });
  }

  /** The presentation, if the caller runs it (or moderates the meeting). */
  async #current(who: ParticipantRecord): Promise<Presentation> {
    const current = await this.meetings.presentation(who.meetingId);
    if (!current) throw new AppError('bad_request', 'nothing is being presented');
    if (current.presenterId !== who.id && !who.grants.moderate) throw new AppError('forbidden', 'only the presenter or a host may do this');
    return current;
  }

  async #set(meetingId: string, presentation: Presentation): Promise<Presentation> {
    await this.meetings.setPresentation(meetingId, presentation);
    await this.events.publish(meetingId, { event: 'presentation', payload: { presentation } });
    return presentation;
  }
}
