/**
 * What the lab e2e tests share: a page's media checks and the ICE path its transports took.
 * Written against playwright's and puppeteer's common `evaluate`, so Chromium and Firefox
 * pages answer the same questions.
 */
import { waitFor } from '../../common/testing.ts';

/** The part of a playwright or puppeteer Page these checks need. */
export interface EvaluatingPage {
  evaluate<R>(fn: () => R | Promise<R>): Promise<R>;
}

export interface Inbound {
  producerId: string;
  participantId: string;
  source: string;
  kind: string;
  bytesReceived: number;
  framesDecoded: number;
}

/** inbound-rtp statistics of every remote track the page receives. */
export function inbound(page: EvaluatingPage): Promise<Inbound[]> {
  return page.evaluate(async () => {
    const out = [];
    for (const remote of window.convene!.remoteTracks.values()) {
      let bytesReceived = 0;
      let framesDecoded = 0;
      (await remote.consumer.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp') {
          bytesReceived += Number(s.bytesReceived ?? 0);
          framesDecoded += Number(s.framesDecoded ?? 0);
        }
      });
      out.push({ producerId: remote.producerId, participantId: remote.participantId, source: remote.source, kind: remote.kind, bytesReceived, framesDecoded });
    }
    return out;
  });
}

/** Waits until `page` receives `source` from a participant with growing bytes (and frames, for video). */
export async function expectFlowing(page: EvaluatingPage, fromParticipantId: string, source: string, timeoutMs = 30_000): Promise<Inbound> {
  const first = await waitFor(async () => (await inbound(page)).find((s) => s.participantId === fromParticipantId && s.source === source && s.bytesReceived > 0), {
    timeoutMs,
    what: `${source} from ${fromParticipantId}`,
    intervalMs: 250,
  });
  return waitFor(
    async () => {
      const now = (await inbound(page)).find((s) => s.producerId === first.producerId);
      if (!now || now.bytesReceived <= first.bytesReceived) return undefined;
      if (now.kind === 'video' && now.framesDecoded <= first.framesDecoded) return undefined;
      return now;
    },
    { timeoutMs, what: `${source} from ${fromParticipantId} to keep flowing`, intervalMs: 250 },
  );
}

export const participantIdOf = (page: EvaluatingPage) => page.evaluate(() => window.convene!.participantId);

export interface SelectedPath {
  localType: string;
  localProtocol: string;
  /** For a relay candidate: how the browser reaches the TURN server ('udp', 'tcp' or 'tls'). */
  relayProtocol?: string;
  localAddress: string;
  /** For a relay candidate, the port of its TURN allocation: a new allocation has a new one. */
  localPort: number;
  remoteAddress: string;
}

/** The selected ICE candidate pair of the page's send or receive transport, from getStats. */
export function selectedPath(page: EvaluatingPage, direction: 'send' | 'recv'): Promise<SelectedPath | undefined> {
  const code = `(async () => {
    const transport = window.convene.transports[${JSON.stringify(direction)}];
    if (!transport) return undefined;
    const stats = new Map();
    (await transport.getStats()).forEach((s) => stats.set(s.id, s));
    let pair;
    for (const s of stats.values()) if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
    // Firefox has no transport stats: its selected pair says so itself.
    if (!pair) for (const s of stats.values()) if (s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded'))) pair = s;
    if (!pair) return undefined;
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    if (!local || !remote) return undefined;
    return {
      localType: local.candidateType,
      localProtocol: local.protocol,
      relayProtocol: local.relayProtocol,
      localAddress: local.address ?? local.ipAddress,
      localPort: local.port ?? local.portNumber,
      remoteAddress: (remote.address ?? remote.ipAddress) + ':' + (remote.port ?? remote.portNumber),
    };
  })()`;
  // Passed as source text: the page runs it, not this file's compiled form.
  return page.evaluate(new Function(`return ${code}`) as () => Promise<SelectedPath | undefined>);
}
