/** The named profiles of `npm run loadtest`; each resolves to the problems it found (none = pass). */
import { runLoad, type LoadSpec } from './artillery/load.ts';
import { summarize } from './artillery/summary.ts';
import { startTarget } from './target.ts';

export type Profile = (dir: string) => Promise<string[]>;

const portBase = () => Number(process.env.LOADTEST_PORT_BASE ?? 35000);

/** A few users a second for ten seconds: enough to cross every path once, quick enough for CI. */
const SMOKE: LoadSpec = {
  api: [{ duration: 10, arrivalRate: 2 }],
  signalling: [{ duration: 10, arrivalRate: 2 }],
  chats: 3,
  chatEvery: 1,
  meetingSize: 5,
};

async function smoke(dir: string): Promise<string[]> {
  const target = await startTarget({ portBase: portBase() });
  try {
    const result = await runLoad(target, SMOKE, dir);
    console.log(summarize(result));
    return result.problems;
  } finally {
    await target.stop();
  }
}

async function lazy(module: string): Promise<Profile> {
  return ((await import(module)) as { profile: Profile }).profile;
}

export const PROFILES: Record<string, Profile> = {
  smoke,
  signalling: async (dir) => (await lazy('./signalling.ts'))(dir),
  fanout: async (dir) => (await lazy('./fanout.ts'))(dir),
  media: async (dir) => (await lazy('./media-bots.ts'))(dir),
  soak: async (dir) => (await lazy('./soak.ts'))(dir),
};
