import { signal } from '@preact/signals';
import type { Key } from '../i18n/i18n.ts';
import type { ConveneClient } from '../session.ts';

export interface DeckStatus {
  key: Key;
  vars: Record<string, string | number>;
}

/** Uploads a deck, follows its conversion and presents it when its pages are ready. */
export class DeckPresenter {
  readonly status = signal<DeckStatus | null>(null);
  readonly #client: ConveneClient;
  #pending?: string;

  /** `changed` re-reads the client: the SDK does not announce our own presenting as an event. */
  constructor(client: ConveneClient, changed: () => void) {
    this.#client = client;
    client.on('fileUpdated', (file, { deleted }) => {
      if (file.uploadedBy !== client.participantId || deleted || file.id !== this.#pending) return;
      if (file.status === 'converting') this.status.value = { key: 'deckConverting', vars: { name: file.name, percent: Math.round(file.progress * 100) } };
      else if (file.status === 'failed') {
        this.#pending = undefined;
        this.status.value = { key: 'deckFailed', vars: { name: file.name } };
      } else if (file.status === 'ready' || file.status === 'partial') {
        this.#pending = undefined;
        this.status.value = file.missingPages.length ? { key: 'deckMissingPages', vars: { name: file.name, pages: file.missingPages.join(', ') } } : null;
        client.present(file.id).then(
          changed,
          () => {
            this.status.value = { key: 'deckFailed', vars: { name: file.name } };
          },
        );
      }
    });
  }

  async upload(file: File): Promise<void> {
    this.status.value = { key: 'deckUploading', vars: { name: file.name } };
    try {
      const info = await this.#client.uploadFile(file, file.name);
      this.#pending = info.id;
      this.status.value = { key: 'deckConverting', vars: { name: info.name, percent: 0 } };
    } catch {
      this.status.value = { key: 'deckFailed', vars: { name: file.name } };
    }
  }
}
