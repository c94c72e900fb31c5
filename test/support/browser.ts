import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Chromium as every test and bench here starts it: fake camera and microphone, no network chatter of its own. */
export const CHROMIUM_BASE_FLAGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const FLAGS = [
  ...CHROMIUM_BASE_FLAGS,
  '--allow-loopback-in-peer-connection',
  // Keep WebRTC on loopback: no other interface may carry test traffic.
  '--force-webrtc-ip-handling-policy=default_public_interface_only',
  '--autoplay-policy=no-user-gesture-required',
];

/** Every Content-Security-Policy violation any test page reported, as `[name] message`. */
export const cspViolations: string[] = [];

/** Records the page's CSP violations (console reports and securitypolicyviolation events). */
export async function watchCsp(page: Page, name: string): Promise<void> {
  page.on('console', (message) => {
    if (/Content[- ]Security[- ]Policy/i.test(message.text())) cspViolations.push(`[${name}] ${message.text()}`);
  });
  await page.exposeFunction('__reportCsp', (text: string) => cspViolations.push(`[${name}] ${text}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __reportCsp(text: string): void }).__reportCsp(`${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
}

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Launches Chromium. `executablePath` may be a lab host's wrapper (netlab's `host.wrapper`), so
 * that the browser runs in that host's namespace; `args` are added to the test flags. The
 * variants are what a browser's owner may have set differently: no camera or microphone at all
 * (`noDevices`), or media permission refused (`denyMedia`).
 */
export interface BrowserOptions {
  executablePath?: string;
  args?: string[];
  noDevices?: boolean;
  denyMedia?: boolean;
}

export async function launchBrowser(options: BrowserOptions = {}): Promise<TestBrowser> {
  const flags = FLAGS.filter(
    (flag) =>
      !(options.noDevices && flag === '--use-fake-device-for-media-stream') &&
      // Without the fake permission UI, headless Chromium refuses media like a person clicking "Block".
      !(options.denyMedia && flag === '--use-fake-ui-for-media-stream'),
  );
  // playwright gives every launch a fresh, temporary user-data dir of its own.
  const browser = await chromium.launch({ executablePath: options.executablePath ?? CHROMIUM_PATH, args: [...flags, ...(options.args ?? [])] });
  return { browser, close: () => browser.close() };
}

/** Opens the web client at the meeting link and joins with the given name. */
export async function joinInBrowser(browser: Browser, base: string, meetingId: string, name: string, query = ''): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${name}] page error`, error));
  await watchCsp(page, name);
  await page.goto(`${base}/m/${meetingId}?name=${encodeURIComponent(name)}&autojoin=1${query}`);
  await page.waitForFunction(() => window.convene?.self !== undefined, undefined, { timeout: 20_000 });
  return page;
}

export interface InboundStats {
  producerId: string;
  participantId: string;
  source: string;
  kind: string;
  bytesReceived: number;
  framesDecoded: number;
  audioLevel: number;
  trackLabel: string;
}

/** inbound-rtp statistics of every remote track the page receives. */
export async function inboundStats(page: Page): Promise<InboundStats[]> {
  return page.evaluate(async () => {
    const client = window.convene!;
    const out = [];
    for (const remote of client.remoteTracks.values()) {
      const report = await remote.consumer.getStats();
      let bytesReceived = 0;
      let framesDecoded = 0;
      let audioLevel = 0;
      report.forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp') {
          bytesReceived += Number(s.bytesReceived ?? 0);
          framesDecoded += Number(s.framesDecoded ?? 0);
          audioLevel = Math.max(audioLevel, Number(s.audioLevel ?? 0));
        }
      });
      out.push({
        producerId: remote.producerId,
        participantId: remote.participantId,
        source: remote.source,
        kind: remote.kind,
        bytesReceived,
        framesDecoded,
        audioLevel,
        trackLabel: remote.track.label,
      });
    }
    return out;
  });
}
