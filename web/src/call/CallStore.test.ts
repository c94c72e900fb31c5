import { describe, expect, it } from 'vitest';
import { endingOf } from './CallStore.ts';

describe('how a session ended', () => {
  it('maps the SDK close reasons onto the end screens', () => {
    expect(endingOf('left')).toBe('left');
    expect(endingOf('removed')).toBe('removed');
    expect(endingOf('ended')).toBe('ended');
    expect(endingOf('meeting_ended')).toBe('ended');
    expect(endingOf('state_lost')).toBe('ended');
    expect(endingOf('participant_not_found')).toBe('lost');
  });
});
