import { describe, expect, it } from 'vitest';
import { MemoryEventBus } from '../common/bus/MemoryEventBus.ts';
import { AppError } from '../common/errors.ts';
import type { FileInfo } from '../protocol/src/index.ts';
import { MemoryStateStore } from '../common/state/MemoryStateStore.ts';
import { MeetingEvents } from '../meeting/MeetingEvents.ts';
import { MeetingRepository } from '../meeting/MeetingRepository.ts';
import type { ParticipantRecord } from '../meeting/records.ts';
import { GRANTS } from '../meeting/MeetingService.ts';
import { FileRepository } from './FileRepository.ts';
import { PresentationService } from './PresentationService.ts';

const MEETING = 'm1';

function person(id: string, role: 'host' | 'guest'): ParticipantRecord {
  return { id, meetingId: MEETING, name: id, role, grants: GRANTS[role], kind: 'browser', connection: 'connected', joinedAt: 0 };
}

function deck(id: string): FileInfo {
  return {
    id, meetingId: MEETING, name: `${id}.pdf`, type: 'application/pdf', size: 1, sha256: '', status: 'ready',
    pages: [1, 2, 3], missingPages: [], pageCount: 3, progress: 100, uploadedBy: null, createdAt: 0,
  };
}

async function setup() {
  const store = new MemoryStateStore();
  const files = new FileRepository(store);
  await files.put(deck('host-deck'));
  await files.put(deck('guest-deck'));
  const service = new PresentationService(new MeetingRepository(store), files, new MeetingEvents(new MemoryEventBus()));
  return service;
}

const code = (promise: Promise<unknown>) => promise.then(() => 'ok', (error: unknown) => (error instanceof AppError ? error.code : String(error)));

describe('PresentationService', () => {
  const host = person('host', 'host');
  const guest = person('guest', 'guest');
  const other = person('other', 'guest');

  it('does not let a guest replace or stop someone else\'s presentation', async () => {
    const service = await setup();
    await service.start(host, 'host-deck');
    expect(await code(service.start(guest, 'guest-deck'))).toBe('forbidden');
    expect(await code(service.stop(guest))).toBe('forbidden');
    expect(await code(service.turn(guest, 2))).toBe('forbidden');
  });

  it('lets the presenter replace their own deck and a host replace anyone\'s', async () => {
    const service = await setup();
    await service.start(guest, 'guest-deck');
    expect((await service.start(guest, 'host-deck', 2)).page).toBe(2);
    expect(await code(service.start(other, 'guest-deck'))).toBe('forbidden');
    expect((await service.start(host, 'host-deck')).presenterId).toBe('host');
    await service.stop(host);
    // Nothing running: any participant with the present grant may start.
    expect((await service.start(other, 'guest-deck')).presenterId).toBe('other');
  });
});
