// Chromium for the browser tests: the Debian package (`apt-get install -y chromium`) driven by
// playwright-core. CHROMIUM_PATH overrides the executable.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
    (p): p is string => !!p,
  );
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new Error(`no Chromium found (tried ${candidates.join(', ')}); install it with: apt-get install -y chromium`);
  return found;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--headless',
    ],
  });
}
