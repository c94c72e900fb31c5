import type { NodePipe, RoomProducer } from './roomTypes.ts';

/**
 * A room's pipes to other media nodes, and the producers imported or being imported over
 * them. Only state: `NodePiping` makes the pipes; imports in progress are kept so that
 * concurrent consumers of one remote producer share one import.
 */
export class RoomNodePipes {
  readonly pipes = new Map<string, NodePipe>();
  readonly imports = new Map<string, Promise<RoomProducer>>();
  /** Per peer node, the one pipe that pulls its producers here. */
  readonly importPipes = new Map<string, Promise<NodePipe>>();

  peers(): Set<string> {
    return new Set([...this.pipes.values()].map((pipe) => pipe.peerNodeId));
  }

  /** Closes every pipe to a node (it died or left); the producers imported over them close with them. */
  forgetPeer(peerNodeId: string, producers: Iterable<RoomProducer>): number {
    let closed = 0;
    for (const [pipeId, pipe] of this.pipes) {
      if (pipe.peerNodeId !== peerNodeId) continue;
      pipe.transport.close();
      this.pipes.delete(pipeId);
      closed++;
    }
    this.importPipes.delete(peerNodeId);
    for (const entry of [...producers]) if (entry.importedFrom === peerNodeId) entry.producer.close();
    return closed;
  }
}
