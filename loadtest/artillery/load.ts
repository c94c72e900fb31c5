/** The API and signalling scenarios run together against a target, with the seats they need. */
import path from 'node:path';
import type { Target } from '../target.ts';
import { problems, type Report, runArtillery } from './artillery.ts';
import { fetchSeats } from './seats.ts';

export interface Phase {
  duration: number;
  arrivalRate: number;
  name?: string;
}

export interface LoadSpec {
  api: Phase[];
  signalling: Phase[];
  /** Chat messages per signalling user and the seconds between them. */
  chats: number;
  chatEvery: number;
  meetingSize: number;
}

export interface LoadResult {
  api: Report;
  /** One report per push node: each is driven by its own artillery process. */
  signalling: Report[];
  problems: string[];
}

const users = (phases: Phase[]) => phases.reduce((sum, p) => sum + p.duration * p.arrivalRate, 0);

export async function runLoad(target: Target, spec: LoadSpec, dir: string): Promise<LoadResult> {
  const pushes = target.pushUrls;
  // Each push node gets its share of the users, so the total load is the spec's. Artillery wants
  // whole arrival rates, so a share is given as a count spread evenly over the phase instead.
  const share = (phases: Phase[]) =>
    phases.map(({ arrivalRate, ...p }) => ({ ...p, arrivalCount: Math.round((p.duration * arrivalRate) / pushes.length) }));
  const perNode = Math.ceil(users(spec.signalling) / pushes.length) + 5;
  const files = pushes.map((_, i) => path.join(dir, `seats-${i + 1}.csv`));
  await fetchSeats({ apiUrl: target.apiUrl, apiKey: process.env.CONVENE_API_KEY ?? 'dev-api-key', seats: perNode * pushes.length, meetingSize: spec.meetingSize, files });
  const [api, ...signalling] = await Promise.all([
    runArtillery({ script: 'api.yml', target: target.apiUrl, output: path.join(dir, 'api.json'), overrides: { config: { phases: spec.api } } }),
    ...pushes.map((url, i) =>
      runArtillery({
        script: 'signalling.yml',
        target: url,
        output: path.join(dir, `signalling-${i + 1}.json`),
        overrides: { config: { phases: share(spec.signalling), payload: [{ path: files[i], fields: ['token', 'meetingId'], order: 'sequence', skipHeader: true }], variables: { chats: spec.chats, chatEvery: spec.chatEvery } } },
      }),
    ),
  ]);
  const found = [...problems(api).map((p) => `api: ${p}`), ...signalling.flatMap((r, i) => problems(r).map((p) => `signalling via push ${i + 1}: ${p}`))];
  return { api, signalling, problems: found };
}
