import type { FileInfo } from '../protocol/src/index.ts';
import type { StateStore } from '../common/state/StateStore.ts';

/** File records, in the StateStore. */
export class FileRepository {
  readonly store: StateStore;
  constructor(store: StateStore) {
    this.store = store;
  }

  async get(fileId: string): Promise<FileInfo | null> {
    const raw = await this.store.get(`file:${fileId}`);
    return raw ? (JSON.parse(raw) as FileInfo) : null;
  }

  async put(file: FileInfo): Promise<void> {
    await this.store.set(`file:${file.id}`, JSON.stringify(file));
    await this.store.setAdd(`meeting:${file.meetingId}:files`, file.id);
  }

  /** Read-modify-write with compare-and-set, so progress from a worker never undoes a delete. */
  async update(fileId: string, change: (file: FileInfo) => FileInfo): Promise<FileInfo | null> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const raw = await this.store.get(`file:${fileId}`);
      if (!raw) return null;
      const next = change(JSON.parse(raw) as FileInfo);
      if (await this.store.compareAndSet(`file:${fileId}`, raw, JSON.stringify(next))) return next;
    }
    throw new Error(`file ${fileId} changed too often to update`);
  }

  async remove(file: FileInfo): Promise<void> {
    await this.store.del(`file:${file.id}`);
    await this.store.setRemove(`meeting:${file.meetingId}:files`, file.id);
  }

  async list(meetingId: string): Promise<FileInfo[]> {
    const ids = await this.store.setMembers(`meeting:${meetingId}:files`);
    const files = await Promise.all(ids.map((id) => this.get(id)));
    return files.filter((f): f is FileInfo => f !== null).sort((a, b) => a.createdAt - b.createdAt);
  }
}

export const originalKey = (file: Pick<FileInfo, 'meetingId' | 'id'>) => `meetings/${file.meetingId}/${file.id}/original`;
export const pageKey = (file: Pick<FileInfo, 'meetingId' | 'id'>, page: number) => `meetings/${file.meetingId}/${file.id}/pages/${page}.png`;
export const filePrefix = (file: Pick<FileInfo, 'meetingId' | 'id'>) => `meetings/${file.meetingId}/${file.id}`;
