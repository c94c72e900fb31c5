import { signal } from '@preact/signals';

/**
 * Plays remote audio, and notices when the browser refuses to without a tap (WeChat, iOS
 * Safari): then `blocked` is set until the person's first tap anywhere starts every element.
 */
export class AudioPlayback {
  readonly blocked = signal(false);
  readonly #elements = new Set<HTMLAudioElement>();
  #sinkId = '';
  readonly #unlock = () => {
    if (!this.blocked.value) return;
    for (const el of this.#elements) this.#play(el);
  };

  constructor() {
    document.addEventListener('pointerdown', this.#unlock, { capture: true });
    document.addEventListener('keydown', this.#unlock, { capture: true });
  }

  close(): void {
    document.removeEventListener('pointerdown', this.#unlock, { capture: true });
    document.removeEventListener('keydown', this.#unlock, { capture: true });
    this.#elements.clear();
  }

  attach(el: HTMLAudioElement): () => void {
    this.#elements.add(el);
    this.#applySink(el);
    this.#play(el);
    return () => this.#elements.delete(el);
  }

  /** Sends every voice to the chosen speaker, where the browser can (setSinkId). */
  setSpeaker(deviceId: string): void {
    this.#sinkId = deviceId;
    for (const el of this.#elements) this.#applySink(el);
  }

  #applySink(el: HTMLAudioElement): void {
    const sinkable = el as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
    if (this.#sinkId && sinkable.setSinkId) sinkable.setSinkId(this.#sinkId).catch(() => undefined);
  }

  #play(el: HTMLAudioElement): void {
    el.play().then(
      () => {
        this.blocked.value = false;
      },
      (error: unknown) => {
        if ((error as { name?: string }).name === 'NotAllowedError') this.blocked.value = true;
      },
    );
  }
}
