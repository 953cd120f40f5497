// The built pages hold nothing inline that their Content-Security-Policy (default-src 'self', no
// 'unsafe-inline': api/src/plugins/web.ts) would block: no <style>, no <script> without src, no style="…"
// and no on…= handler attributes; the stylesheet and scripts they link are files of the build.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../build.js';

const dir = mkdtempSync(join(tmpdir(), 'tallyproof-web-build-'));
const dist = join(dir, 'dist');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('web build under a strict CSP', () => {
  it('links every style and script, inlining none', async () => {
    await buildWeb(dist);
    for (const page of ['index.html', 'results.html']) {
      const html = readFileSync(join(dist, page), 'utf8');
      expect(html, page).not.toMatch(/<style[\s>]/i);
      expect(html, page).not.toMatch(/\sstyle\s*=/i);
      expect(html, page).not.toMatch(/\son[a-z]+\s*=/i);
      expect(html, page).not.toMatch(/javascript:/i);
      const scripts = [...html.matchAll(/<script\b([^>]*)>/gi)].map((m) => m[1]!);
      expect(scripts.length, page).toBeGreaterThan(0);
      for (const attrs of scripts) expect(attrs, page).toMatch(/\ssrc="\/assets\/[a-z-]+\.js"/);
      const links = [...html.matchAll(/<link\b[^>]*href="([^"]+)"/gi)].map((m) => m[1]!);
      expect(links, page).toContain('/assets/style.css');
      for (const href of [...links, ...scripts.map((s) => /src="([^"]+)"/.exec(s)![1]!)]) {
        expect(existsSync(join(dist, href)), `${page}: ${href}`).toBe(true);
      }
    }
    expect(readFileSync(join(dist, 'assets', 'style.css'), 'utf8')).toMatch(/\{/);
  });
});
