import { spawn } from 'node:child_process';

export interface ToolResult {
  stdout: string;
  stderr: string;
}

/** Why a tool run ended without success; `timedOut` when the deadline or the signal killed it. */
export class ToolError extends Error {
  readonly timedOut: boolean;
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(message: string, options: { timedOut: boolean; exitCode: number | null; stderr: string }) {
    super(message);
    this.name = 'ToolError';
    this.timedOut = options.timedOut;
    this.exitCode = options.exitCode;
    this.stderr = options.stderr;
  }
}

const OUTPUT_LIMIT = 64 * 1024;

/**
 * Runs a converter (soffice, pdfinfo, pdftoppm) in a process group of its own and, whatever
 * happens, kills the whole group before answering. Killing only the direct child is not
 * enough: `soffice` is a launcher whose `soffice.bin` is reparented and runs on when the
 * launcher dies, so a timed-out conversion would keep a CPU busy and break the concurrency
 * limit. Nothing started here outlives the promise this returns.
 */
export function runTool(command: string, args: string[], options: { timeoutMs: number; signal?: AbortSignal }): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new ToolError(`${command} not started: the job was cancelled`, { timedOut: true, exitCode: null, stderr: '' }));
      return;
    }
    const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < OUTPUT_LIMIT) stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < OUTPUT_LIMIT) stderr += chunk.toString();
    });
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        // A negative pid names the group: the launcher and everything it started.
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const expire = () => {
      timedOut = true;
      killGroup();
    };
    const timer = setTimeout(expire, Math.max(0, options.timeoutMs));
    options.signal?.addEventListener('abort', expire, { once: true });
    const finish = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', expire);
      // A helper the tool left behind (a daemonised soffice.bin) goes with it, even on success.
      killGroup();
    };
    child.once('error', (error) => {
      finish();
      reject(new ToolError(`${command} could not start: ${error.message}`, { timedOut: false, exitCode: null, stderr }));
    });
    // Once the launcher exits, whatever it left behind in its group goes too; only then do the
    // pipes close (a leftover holding them open would otherwise hold this promise).
    child.once('exit', killGroup);
    child.once('close', (code, signal) => {
      finish();
      if (timedOut) reject(new ToolError(`${command} timed out after ${options.timeoutMs} ms`, { timedOut: true, exitCode: code, stderr }));
      else if (code !== 0) {
        const firstLine = stderr.trim().split('\n').slice(-2).join(' ');
        reject(new ToolError(`${command} failed (${signal ?? `exit ${code}`})${firstLine ? `: ${firstLine}` : ''}`, { timedOut: false, exitCode: code, stderr }));
      } else resolve({ stdout, stderr });
    });
  });
}
