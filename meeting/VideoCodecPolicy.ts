import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { withLock } from '../common/state/lock.ts';
import type { VideoCodec } from '../protocol/src/index.ts';
import type { MeetingEvents } from './MeetingEvents.ts';
import type { MeetingRepository } from './MeetingRepository.ts';
import type { JoinInput, MeetingRecord } from './records.ts';
import { canReceiveVideo, chooseVideoCodec, decodableVideoCodecs } from './videoCodecs.ts';

/**
 * The meeting's video codec (docs/architecture.md, Codec policy): who may join for video, and
 * which codec publishers use. The choice is kept on the meeting record and re-made whenever the
 * seats or the setting change; publishers hear of a change through `videoCodecChanged` and
 * republish without rejoining.
 */
export class VideoCodecPolicy {
  private readonly repo: MeetingRepository;
  private readonly events: MeetingEvents;
  private readonly logger: Logger;
  constructor(repo: MeetingRepository, events: MeetingEvents, logger: Logger) {
    this.repo = repo;
    this.events = events;
    this.logger = logger;
  }

  /**
   * What a join's seat records: the codecs its device decodes, or none for an audio-only join.
   * Throws `codec_unsupported` for a video join that could receive no video in this meeting.
   */
  admit(meeting: MeetingRecord, input: JoinInput): VideoCodec[] | undefined {
    if (input.receiveVideo === false || input.kind === 'phone') return undefined;
    const decodable = decodableVideoCodecs(input.rtpCapabilities);
    const setting = meeting.settings.videoCodec ?? 'auto';
    if (!canReceiveVideo(setting, decodable)) {
      throw new AppError(
        'codec_unsupported',
        setting === 'auto'
          ? 'this device can decode none of the video codecs offered (VP8, H264, VP9); join with receiveVideo: false for audio only'
          : `this meeting sends ${setting.toUpperCase()} video, which this device cannot decode; join with receiveVideo: false for audio only`,
        { setting, decodable },
      );
    }
    return decodable;
  }

  /** Re-makes the choice from the seats now; announces it to the meeting when it changed. Returns the codec. */
  async reconcile(meetingId: string): Promise<VideoCodec> {
    return withLock(this.repo.store, `codec:${meetingId}`, async () => {
      const [meeting, participants] = await Promise.all([this.repo.getMeeting(meetingId), this.repo.listParticipants(meetingId)]);
      if (!meeting) throw new AppError('meeting_not_found', `meeting ${meetingId} does not exist`);
      const receivers = participants.flatMap((p) => (p.videoCodecs ? [p.videoCodecs] : []));
      const codec = chooseVideoCodec(meeting.settings.videoCodec ?? 'auto', receivers);
      if (meeting.videoCodec === codec) return codec;
      await this.repo.updateMeeting(meetingId, (m) => ({ ...m, videoCodec: codec }));
      this.logger.info({ meetingId, codec, previous: meeting.videoCodec ?? null, receivers: receivers.length }, 'meeting video codec chosen');
      // The first choice needs no announcement: nobody has published video before it.
      if (meeting.videoCodec !== undefined) await this.events.publish(meetingId, { event: 'videoCodecChanged', payload: { codec } });
      return codec;
    });
  }
}
