import type { Registry } from 'prom-client';
import type { Logger } from '../common/logger.ts';
import { gauge } from '../common/metrics.ts';
import type { MeetingRepository } from './MeetingRepository.ts';

const KINDS = ['browser', 'bot', 'phone'] as const;

/**
 * Deployment-wide meetings and participants by kind, read from the store when scraped. Every
 * meeting process reports the same totals (dashboards take max, not sum). A reading is reused
 * for `maxAgeMs` so that frequent scrapes cost the store nothing more, and at most `maxMeetings`
 * meetings are walked for participants, so a huge deployment cannot make a scrape slow.
 */
export class MeetingGauges {
  #last = { at: 0, meetings: 0, participants: new Map<string, number>() };

  private readonly repo: MeetingRepository;
  private readonly logger: Logger;
  private readonly options: { maxAgeMs: number; maxMeetings: number };
  constructor(repo: MeetingRepository, registry: Registry, logger: Logger, options: { maxAgeMs?: number; maxMeetings?: number } = {}) {
    this.repo = repo;
    this.logger = logger;
    this.options = { maxAgeMs: options.maxAgeMs ?? 5000, maxMeetings: options.maxMeetings ?? 2000 };
    const gauges = this;
    gauge(registry, {
      name: 'convene_meetings',
      help: 'Live meetings in the deployment (every meeting process reports the same total)',
      async collect() {
        this.set((await gauges.read()).meetings);
      },
    });
    gauge(registry, {
      name: 'convene_participants',
      help: 'Participants seated in the deployment, by kind (browser, bot, phone); every meeting process reports the same totals',
      labelNames: ['kind'] as const,
      async collect() {
        const { participants } = await gauges.read();
        for (const kind of KINDS) this.set({ kind }, participants.get(kind) ?? 0);
      },
    });
  }

  /** The latest totals; the previous ones when the store cannot be read now. */
  async read(): Promise<{ meetings: number; participants: Map<string, number> }> {
    if (Date.now() - this.#last.at < this.options.maxAgeMs) return this.#last;
    try {
      const ids = await this.repo.liveMeetingIds();
      const participants = new Map<string, number>();
      for (const id of ids.slice(0, this.options.maxMeetings)) {
        for (const p of await this.repo.listParticipants(id)) participants.set(p.kind ?? 'browser', (participants.get(p.kind ?? 'browser') ?? 0) + 1);
      }
      this.#last = { at: Date.now(), meetings: ids.length, participants };
    } catch (error) {
      this.logger.warn({ err: error }, 'could not count meetings for /metrics; showing the last count');
    }
    return this.#last;
  }
}
