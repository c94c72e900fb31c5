import type { Registry } from 'prom-client';
import { BackgroundLoop } from './BackgroundLoop.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';

export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

/**
 * The annotation's value for a pod carrying `load` (participants, sockets, calls). A ReplicaSet
 * that scales in deletes the pod with the lowest cost first, so the emptiest pod goes. The
 * annotation is an int32; the autoscaling test computes the expected victim with this function.
 */
export function podDeletionCost(load: number): number {
  if (!Number.isFinite(load) || load <= 0) return 0;
  return Math.min(2_147_483_647, Math.round(load));
}

/** Writes the annotation: the Kubernetes API in production, a stand-in in tests. */
export type AnnotatePod = (cost: number) => Promise<void>;

/**
 * Keeps this pod's pod-deletion-cost annotation equal to its load. Patches only when the value
 * changed, so a steady pod makes no API calls; a failed patch is retried by the loop (an outdated
 * cost only makes a scale-in pick a worse victim, never cuts a call: the victim drains).
 */
export class PodDeletionCost {
  readonly #loop: BackgroundLoop;
  #written: number | undefined;

  private readonly load: () => number;
  private readonly annotate: AnnotatePod;
  constructor(load: () => number, annotate: AnnotatePod, options: { intervalMs: number; logger: Logger; metrics?: Registry }) {
    this.load = load;
    this.annotate = annotate;
    this.#loop = new BackgroundLoop({ name: 'pod-deletion-cost', intervalMs: options.intervalMs, logger: options.logger, metrics: options.metrics }, () =>
      this.update(),
    );
  }

  start(): void {
    this.#loop.start();
  }

  stop(): void {
    this.#loop.stop();
  }

  /** One pass: patch if the cost moved since the last successful patch. */
  async update(): Promise<void> {
    const cost = podDeletionCost(this.load());
    if (cost === this.#written) return;
    await this.annotate(cost);
    this.#written = cost;
  }
}

/**
 * The patcher for this process, or undefined when K8S_POD_DELETION_COST is off (everywhere but
 * Kubernetes). The client library is loaded only then. It authenticates with the pod's
 * service-account token (in-cluster config) and needs `patch` on pods in its namespace.
 */
export async function podDeletionCostFor(config: Config, load: () => number, logger: Logger, metrics?: Registry): Promise<PodDeletionCost | undefined> {
  if (!config.K8S_POD_DELETION_COST || config.POD_NAME === undefined || config.POD_NAMESPACE === undefined) return undefined;
  const { KubeConfig, CoreV1Api, PatchStrategy, setHeaderOptions } = await import('@kubernetes/client-node');
  const kube = new KubeConfig();
  kube.loadFromCluster();
  const api = kube.makeApiClient(CoreV1Api);
  const name = config.POD_NAME;
  const namespace = config.POD_NAMESPACE;
  const annotate: AnnotatePod = async (cost) => {
    // A merge patch touches only this annotation; the value must be a string.
    await api.patchNamespacedPod(
      { name, namespace, body: { metadata: { annotations: { [POD_DELETION_COST_ANNOTATION]: String(cost) } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  };
  const child = logger.child({ component: 'pod-deletion-cost' });
  child.info({ pod: `${namespace}/${name}` }, 'keeping the pod-deletion-cost annotation equal to this pod\'s load');
  return new PodDeletionCost(load, annotate, { intervalMs: config.K8S_POD_DELETION_COST_INTERVAL_MS, logger: child, metrics });
}
