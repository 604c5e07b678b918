/**
 * Headless Chromium for tests of the HTML pages: Debian's `chromium`, installed with apt-get when
 * it is missing (CI runs as root; .ci/run installs it up front), driven by playwright-core.
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function ensureChromium(): Promise<string> {
  if (
    await access(CHROMIUM).then(
      () => true,
      () => false,
    )
  )
    return CHROMIUM;
  const run = promisify(execFile);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env });
  await run('apt-get', ['install', '-y', '-qq', 'chromium'], { env });
  await access(CHROMIUM);
  return CHROMIUM;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: await ensureChromium(), args: ['--no-sandbox'], headless: true });
}
