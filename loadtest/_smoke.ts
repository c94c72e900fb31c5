import { createMeeting, startServer } from '../test/support/server.js';
import { startBot } from './bot.js';
const server = await startServer({ port: 3300, env: { MEDIA_PORT_BASE: '47000', MEDIA_RTC_MIN_PORT: '47010', MEDIA_RTC_MAX_PORT: '47300' } });
try {
  const m = await createMeeting(server.url);
  const a = await startBot({ baseUrl: server.url, meetingId: m.id, name: 'pub', toneHz: 440 });
  const b = await startBot({ baseUrl: server.url, meetingId: m.id, name: 'sub', toneHz: 660 });
  const t = await b.waitForRtp(a.client.participantId, 10000);
  console.log('b marks', b.marks, 'latency', t - b.marks.joinRequested);
  await a.waitForRtp(undefined, 10000);
  console.log('a marks', a.marks);
  const r = await b.client.transports.recv!.getStats();
  for (const s of r.values()) if (s.type === 'inbound-rtp') console.log(s);
  await b.stop(); await a.stop();
} finally { await server.stop(); }
console.log('done', process.getActiveResourcesInfo());
