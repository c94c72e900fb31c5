/**
 * The smallest TURN client that proves what a credential is worth: one Allocate (RFC 5766)
 * with the long-term credential mechanism (RFC 5389 §10.2), over UDP or TLS, answering the
 * server's verdict. Only for tests; browsers do the real TURN.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import tls from 'node:tls';

const MAGIC = 0x2112a442;
const ALLOCATE = 0x0003;
const ATTR = { USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, ERROR_CODE: 0x0009, REALM: 0x0014, NONCE: 0x0015, REQUESTED_TRANSPORT: 0x0019, XOR_RELAYED_ADDRESS: 0x0016 };

export interface AllocateResult {
  /** 'success', or the error the server answered (401: the credential was refused). */
  outcome: 'success' | 'error';
  errorCode?: number;
  reason?: string;
  /** The relayed address the server allocated, `ip:port`. */
  relayed?: string;
}

function attribute(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(value.length, 2);
  const padding = Buffer.alloc((4 - (value.length % 4)) % 4);
  return Buffer.concat([header, value, padding]);
}

function message(type: number, transactionId: Buffer, attributes: Buffer[], integrityKey?: Buffer): Buffer {
  let body = Buffer.concat(attributes);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(MAGIC, 4);
  transactionId.copy(header, 8);
  if (integrityKey) {
    // The HMAC covers the message with its length already counting the MESSAGE-INTEGRITY attribute.
    header.writeUInt16BE(body.length + 24, 2);
    const hmac = createHmac('sha1', integrityKey).update(Buffer.concat([header, body])).digest();
    body = Buffer.concat([body, attribute(ATTR.MESSAGE_INTEGRITY, hmac)]);
  }
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function parse(packet: Buffer): { type: number; attributes: Map<number, Buffer> } {
  const type = packet.readUInt16BE(0);
  const length = packet.readUInt16BE(2);
  const attributes = new Map<number, Buffer>();
  for (let offset = 20; offset + 4 <= 20 + length; ) {
    const attrType = packet.readUInt16BE(offset);
    const attrLength = packet.readUInt16BE(offset + 2);
    attributes.set(attrType, packet.subarray(offset + 4, offset + 4 + attrLength));
    offset += 4 + attrLength + ((4 - (attrLength % 4)) % 4);
  }
  return { type, attributes };
}

function verdict(packet: Buffer): AllocateResult & { realm?: string; nonce?: string } {
  const { type, attributes } = parse(packet);
  if (type === 0x0103) {
    const relayed = attributes.get(ATTR.XOR_RELAYED_ADDRESS);
    let address: string | undefined;
    if (relayed) {
      const port = relayed.readUInt16BE(2) ^ (MAGIC >>> 16);
      const ip = (relayed.readUInt32BE(4) ^ MAGIC) >>> 0;
      address = `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}:${port}`;
    }
    return { outcome: 'success', relayed: address };
  }
  const error = attributes.get(ATTR.ERROR_CODE);
  return {
    outcome: 'error',
    errorCode: error ? (error[2]! & 7) * 100 + error[3]! : undefined,
    reason: error?.subarray(4).toString(),
    realm: attributes.get(ATTR.REALM)?.toString(),
    nonce: attributes.get(ATTR.NONCE)?.toString(),
  };
}

/** One request, one answer, over a datagram socket or a TLS stream (STUN frames itself: 20 + length). */
interface Exchange {
  ask(packet: Buffer): Promise<Buffer>;
  close(): void;
}

function udpExchange(host: string, port: number, timeoutMs: number): Exchange {
  const socket = dgram.createSocket('udp4');
  return {
    ask: (packet) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no TURN answer from ${host}:${port} over UDP`)), timeoutMs);
        socket.once('message', (reply) => {
          clearTimeout(timer);
          resolve(reply);
        });
        socket.send(packet, port, host);
      }),
    close: () => socket.close(),
  };
}

async function tlsExchange(host: string, port: number, timeoutMs: number): Promise<Exchange> {
  // The lab's certificate is self-signed: what is tested here is the credential, not the PKI.
  const socket = tls.connect({ host, port, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no TLS to ${host}:${port}`)), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', reject);
  });
  let buffered = Buffer.alloc(0);
  let waiting: ((packet: Buffer) => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (buffered.length >= 20 && buffered.length >= 20 + buffered.readUInt16BE(2) && waiting) {
      const size = 20 + buffered.readUInt16BE(2);
      const packet = buffered.subarray(0, size);
      buffered = buffered.subarray(size);
      const resolve = waiting;
      waiting = undefined;
      resolve(packet);
    }
  });
  return {
    ask: (packet) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no TURN answer from ${host}:${port} over TLS`)), timeoutMs);
        waiting = (reply) => {
          clearTimeout(timer);
          resolve(reply);
        };
        socket.write(packet);
      }),
    close: () => socket.destroy(),
  };
}

/**
 * Asks the TURN server for a UDP relay with the given credential: first unauthenticated (to
 * learn realm and nonce), then signed with the long-term key MD5(username:realm:password).
 */
export async function turnAllocate(options: {
  host: string;
  port: number;
  transport: 'udp' | 'tls';
  username: string;
  password: string;
  timeoutMs?: number;
}): Promise<AllocateResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const exchange = options.transport === 'udp' ? udpExchange(options.host, options.port, timeoutMs) : await tlsExchange(options.host, options.port, timeoutMs);
  try {
    const udp = Buffer.from([17, 0, 0, 0]);
    const challenge = verdict(await exchange.ask(message(ALLOCATE, randomBytes(12), [attribute(ATTR.REQUESTED_TRANSPORT, udp)])));
    if (challenge.outcome === 'success' || challenge.errorCode !== 401 || !challenge.realm || !challenge.nonce) return challenge;
    const key = createHash('md5').update(`${options.username}:${challenge.realm}:${options.password}`).digest();
    const signed = message(
      ALLOCATE,
      randomBytes(12),
      [
        attribute(ATTR.REQUESTED_TRANSPORT, udp),
        attribute(ATTR.USERNAME, Buffer.from(options.username)),
        attribute(ATTR.REALM, Buffer.from(challenge.realm)),
        attribute(ATTR.NONCE, Buffer.from(challenge.nonce)),
      ],
      key,
    );
    const { outcome, errorCode, reason, relayed } = verdict(await exchange.ask(signed));
    return { outcome, errorCode, reason, relayed };
  } finally {
    exchange.close();
  }
}
