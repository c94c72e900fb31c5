/**
 * Firefox (Debian `firefox-esr`) in a lab host, driven by puppeteer-core over WebDriver BiDi.
 *
 * puppeteer's own `launch` reads the BiDi endpoint Firefox prints and dials 127.0.0.1, which
 * is the lab host's loopback, not ours. So Firefox is started here, in the host's namespace,
 * on a fixed port; the lab forwards that port to the host's address, and puppeteer connects
 * to it there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, connect } from 'puppeteer-core';
import { waitFor } from '../../common/testing.ts';
import type { LabHost, NetLab } from './netlab.ts';
import { keepLogs } from './server.ts';

export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/** Preferences of a test profile: fake camera and microphone, no prompts, nothing phoning home. */
const PREFS: Record<string, string | number | boolean> = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  // The lab serves the app over plain http on a lab address; let it have media devices anyway.
  'media.devices.insecure.enabled': true,
  'media.getusermedia.insecure.enabled': true,
  // Real host addresses in the candidates (not mDNS names), so tests can see which path was taken.
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.startup.page': 0,
  'browser.aboutwelcome.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.enabled': false,
  'app.update.enabled': false,
  'app.update.disabledForTesting': true,
  'extensions.update.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'dom.disable_open_during_load': false,
  'remote.prefs.recommended': true,
};

export interface LabFirefox {
  browser: Browser;
  logs: string[];
  close(): Promise<void>;
}

export async function launchFirefox(lab: NetLab, host: LabHost, port = 30_900): Promise<LabFirefox> {
  const profile = mkdtempSync(path.join(tmpdir(), 'cvlab-firefox-'));
  writeFileSync(path.join(profile, 'user.js'), Object.entries(PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n'));
  const child = host.spawn(
    FIREFOX_PATH,
    ['--headless', '--no-remote', '--profile', profile, `--remote-debugging-port=${port}`, '--remote-allow-hosts', `localhost,127.0.0.1,${host.address}`, 'about:blank'],
    // Firefox refuses a profile that HOME does not own; a root CI job has /root.
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1' } },
  );
  const logs = keepLogs(child);
  const stopProcess = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`firefox exited with ${child.exitCode}`);
        return logs.join('').includes('WebDriver BiDi listening on');
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'Firefox to open its WebDriver BiDi endpoint' },
    );
    const endpoint = await lab.exposeLoopbackPort(host, port);
    // Firefox's remote agent takes only local Host headers; through the forwarder it is still local.
    const browser = await connect({ browserWSEndpoint: `ws://${endpoint}/session`, protocol: 'webDriverBiDi', headers: { Host: `127.0.0.1:${port}` } });
    return {
      browser,
      logs,
      close: async () => {
        await browser.close().catch(() => undefined);
        await stopProcess();
      },
    };
  } catch (error) {
    await stopProcess();
    const what = error instanceof Error ? String(error) : JSON.stringify(error, Object.getOwnPropertyNames(error ?? {}));
    throw new Error(`${what}\n${logs.join('')}`);
  }
}
