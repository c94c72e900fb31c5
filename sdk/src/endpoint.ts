/** Where an engine.io connection goes, as the options socket.io-client's Manager takes. */
export interface Endpoint {
  hostname: string;
  port: string;
  secure: boolean;
}

const URL_PATTERN = /^(https?|wss?):\/\/(?:\[([^\]]+)\]|([^:/?#]+))(?::(\d+))?/i;

/**
 * The host, port and scheme of a signalling URL. Parsed here (no global `URL`: the SDK uses
 * nothing the host may lack) so that the Manager can be pointed at another push node through
 * its public `opts` instead of its private `uri`.
 */
export function endpoint(url: string): Endpoint {
  const match = URL_PATTERN.exec(url);
  if (!match) throw new Error(`not an http(s) or ws(s) URL: ${url}`);
  const scheme = match[1]!.toLowerCase();
  const secure = scheme === 'https' || scheme === 'wss';
  return { hostname: match[2] ?? match[3]!, port: match[4] ?? (secure ? '443' : '80'), secure };
}
