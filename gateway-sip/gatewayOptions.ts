import type { Config } from '../common/config.ts';
import type { GatewayOptions } from './Gateway.ts';

/**
 * The gateway's options from the process's Config. Live settings (SIP_RTP_TIMEOUT_MS) are
 * getters: the Config is changed in place by the config centre, and the gateway reads the value
 * at each use, so a change applies to calls in progress.
 */
export function gatewayOptions(config: Config): GatewayOptions {
  return {
    nodeId: config.nodeId,
    listenIp: config.SIP_LISTEN_IP,
    announcedAddress: config.SIP_ANNOUNCED_ADDRESS,
    sipPort: config.SIP_PORT,
    get rtpTimeoutMs() {
      return config.SIP_RTP_TIMEOUT_MS;
    },
    maxCalls: config.SIP_MAX_CALLS,
    inviteRate: config.SIP_INVITE_RATE,
    ivrTries: config.SIP_IVR_TRIES,
    maxCallsPerTrunk: config.SIP_MAX_CALLS_PER_TRUNK,
    maxCallsPerMeeting: config.SIP_MAX_CALLS_PER_MEETING,
    pinGuesses: config.SIP_PIN_GUESSES,
    dialAllowlist: config.SIP_DIAL_ALLOWLIST,
    dialRate: config.SIP_DIAL_RATE,
    dialTimeoutMs: config.SIP_DIAL_TIMEOUT_MS,
  };
}
