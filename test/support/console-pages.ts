/**
 * What the console's browser tests share besides signing in (browser.ts): screenshots of the main pages for
 * docs/console.md, taken only when CONSOLE_SCREENSHOTS=1 (so a test run never dirties the tree), at a fixed
 * 1280x800 viewport; and an axe-core check of a page.
 */
import { join } from 'node:path';
import axe from 'axe-core';
import type { Page } from 'playwright-core';

export const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS === '1';
const SHOT_DIR = join(import.meta.dirname, '../../docs/console');

/** Writes docs/console/<name>.png of the page as it is now, when CONSOLE_SCREENSHOTS=1. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  await page.setViewportSize({ width: 1280, height: 800 });
  // Let the layout settle at the new size (Cloudscape measures its containers).
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SHOT_DIR, `${name}.png`), animations: 'disabled', caret: 'hide' });
}

const axeSource = axe.source;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * Runs axe-core (WCAG 2.0/2.1 A and AA rules and best practices) on the page as it is, and answers the serious and
 * critical violations. The console's CSP blocks inline scripts, but not a script evaluated through the DevTools
 * protocol (`page.evaluate`), which is how axe is injected: the page's own CSP stays as it is served.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // (Strings, evaluated in the page: this file is compiled without the DOM's types.)
  if (!(await page.evaluate("typeof window.axe === 'object'"))) await page.evaluate(axeSource);
  const violations = await page.evaluate(
    "window.axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)",
  );
  return (violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
}
