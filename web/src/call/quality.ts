export type Quality = 'good' | 'fair' | 'poor';

export interface InboundCounters {
  packetsReceived: number;
  packetsLost: number;
  /** Seconds, as WebRTC reports it. */
  jitter: number;
}

/**
 * Grades one interval of receiving: loss over it and the latest jitter. Video jitter runs high
 * on a busy but healthy receiver (frames come in bursts), so loss counts first.
 */
export function grade(before: InboundCounters, now: InboundCounters): Quality | undefined {
  const received = now.packetsReceived - before.packetsReceived;
  const lost = Math.max(0, now.packetsLost - before.packetsLost);
  if (received + lost === 0) return undefined;
  const loss = lost / (received + lost);
  if (loss > 0.08 || now.jitter > 0.2) return 'poor';
  if (loss > 0.02 || now.jitter > 0.06) return 'fair';
  return 'good';
}

const ORDER: Quality[] = ['good', 'fair', 'poor'];

/** A person's quality is that of their worst stream. */
export function worst(a: Quality | undefined, b: Quality | undefined): Quality | undefined {
  if (!a) return b;
  if (!b) return a;
  return ORDER.indexOf(a) > ORDER.indexOf(b) ? a : b;
}
