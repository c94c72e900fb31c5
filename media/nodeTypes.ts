import type { types } from 'mediasoup';
import type { MeetingEvent } from '../protocol/src/index.ts';
import type { MediaClient } from './contract.ts';
import type { ParticipantLimits } from './roomTypes.ts';

export interface MediaNodeOptions {
  nodeId: string;
  routerIdleTimeoutMs: number;
  consumersPerRouter: number;
  /** The node refuses new participants at this many consumers in all. */
  maxConsumers: number;
  listenIp: string;
  announcedAddress?: string;
  /** Per participant, so that one client cannot fill the node. */
  limits: ParticipantLimits;
}

/** Notices between media nodes about producers piped from one to the other. */
export type PeerNotice = { type: 'producerClosed' | 'producerPaused' | 'producerResumed'; meetingId: string; producerId: string; from: string };

export interface MediaNodeLinks {
  /** Client-facing meeting events. */
  publish(meetingId: string, event: MeetingEvent): void;
  /** A notice to another media node. */
  notifyPeer(nodeId: string, notice: PeerNotice): void;
  /** Calls to other media nodes, for piping. */
  peers?: MediaClient;
}

/** Whose objects a call is about: from the caller's verified token, never from client input. */
export type Who = { meetingId: string; participantId: string };
export type Empty = Record<string, never>;

/** Where this node's RTP sockets listen, and the address peers are told to send to. */
export type ListenAddress = Pick<MediaNodeOptions, 'listenIp' | 'announcedAddress'>;

export function listenInfo(listen: ListenAddress): types.TransportListenInfo {
  return { protocol: 'udp', ip: listen.listenIp, announcedAddress: listen.announcedAddress };
}

/** The address a peer reaches a plain or pipe transport at. */
export function reachableAt(listen: ListenAddress, tuple: types.TransportTuple): { ip: string; port: number } {
  return { ip: listen.announcedAddress ?? tuple.localAddress ?? listen.listenIp, port: tuple.localPort };
}
