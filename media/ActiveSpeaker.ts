import type { types } from 'mediasoup';
import type { MediaAppData } from './roomTypes.ts';

/**
 * A meeting's dominant speaker, from one ActiveSpeakerObserver on its primary router: every
 * audio producer of the room is piped there to be heard.
 */
export class ActiveSpeaker {
  participantId: string | null = null;
  readonly #observer: Promise<types.ActiveSpeakerObserver>;

  constructor(router: types.Router, onChange: (participantId: string) => void) {
    this.#observer = router.createActiveSpeakerObserver({ interval: 300 }).then((observer) => {
      observer.on('dominantspeaker', ({ producer }) => {
        const participantId = (producer.appData as MediaAppData).participantId;
        if (participantId) {
          this.participantId = participantId;
          onChange(participantId);
        }
      });
      return observer;
    });
    // Nothing may await this before the first producer comes; a router closed meanwhile must
    // not leave an unhandled rejection behind. `add` still sees the failure.
    this.#observer.catch(() => undefined);
  }

  /** Listens to a producer that is already on the primary router. */
  async add(producerId: string): Promise<void> {
    await (await this.#observer).addProducer({ producerId });
  }
}
