/**
 * The signalling scenario's processor: meetings and one join token per virtual user, written as
 * the CSV rows artillery hands out in order. Artillery's socket.io engine opens the connection
 * before the first step of a flow, so the token has to be in the user's variables from the
 * start; fetching it ahead is what lets every user hold a seat of its own.
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';

const created = z.object({ id: z.string() });
const issued = z.object({ token: z.string(), meetingId: z.string() });

export interface SeatsRequest {
  apiUrl: string;
  apiKey: string;
  /** Virtual users, one seat each. */
  seats: number;
  /** Seats per meeting: chat in a meeting of this size is fanned out to all of its seats. */
  meetingSize: number;
  /** Files to write, seats dealt out round-robin (one per push node, so a meeting spans them). */
  files: string[];
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function fetchSeats(request: SeatsRequest): Promise<void> {
  const meetings: string[] = [];
  const meetingCount = Math.ceil(request.seats / request.meetingSize);
  for (let i = 0; i < meetingCount; i++) {
    const meeting = created.parse(await post(`${request.apiUrl}/v1/meetings`, { title: `load test ${i + 1}` }, { 'x-api-key': request.apiKey }));
    meetings.push(meeting.id);
  }
  const rows: string[][] = request.files.map(() => ['token,meetingId']);
  // A few at a time: enough to be quick, few enough not to be a load test of its own.
  const batch = 16;
  for (let start = 0; start < request.seats; start += batch) {
    const tokens = await Promise.all(
      Array.from({ length: Math.min(batch, request.seats - start) }, async (_, offset) => {
        const seat = start + offset;
        // Consecutive seats share a meeting and alternate between files, so each meeting spans the push nodes.
        const meetingId = meetings[Math.floor(seat / request.meetingSize)]!;
        return issued.parse(await post(`${request.apiUrl}/v1/meetings/${meetingId}/join`, { name: `Load ${seat + 1}` }));
      }),
    );
    for (const [offset, token] of tokens.entries()) rows[(start + offset) % rows.length]!.push(`${token.token},${token.meetingId}`);
  }
  for (const [i, file] of request.files.entries()) writeFileSync(file, `${rows[i]!.join('\n')}\n`);
}
