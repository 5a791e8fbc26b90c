import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../helpers/engine.ts';

/** Debian's chromium: the tests never download a browser. */
export const CHROMIUM = '/usr/bin/chromium';
/** Where the screenshots of key states go (gitignored). */
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts', 'e2e');

/** True when the terminal's last non-blank line is the shell's prompt (in /workspace, ending in `#` or `$`). */
export function endsWithPrompt(text: string): boolean {
  return /\/workspace[^\n]*[#$]$/.test(text.trimEnd().split('\n').at(-1) ?? '');
}

/** Launch headless chromium with nothing that calls out of the machine. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
}

/** A fresh browser context (its own cookie jar, so its own sandbox) with the workspace open and its prompt shown. */
export async function openWorkspace(browser: Browser, url: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: url });
  const page = await context.newPage();
  await page.goto('/');
  await waitForPrompt(page);
  return { context, page };
}

/** The terminal buffer's text, as `window.__layerlab.terminalText()` gives it ('' before the app mounted). */
export function terminalText(page: Page): Promise<string> {
  return page.evaluate(() => (globalThis as { __layerlab?: { terminalText(): string } }).__layerlab?.terminalText() ?? '');
}

/** Wait (bounded) until the terminal text satisfies `test`; the error shows the terminal's end. */
export async function waitForTerminal(page: Page, test: (text: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  for (;;) {
    text = await terminalText(page);
    if (test(text)) return text;
    if (Date.now() > deadline) break;
    await page.waitForTimeout(150);
  }
  throw new Error(`terminal never showed ${what} within ${timeoutMs} ms; it shows:\n${text.trimEnd().slice(-2500)}`);
}

/** Wait for the shell's prompt and the ready status. */
export async function waitForPrompt(page: Page, timeoutMs = 30_000): Promise<void> {
  await page.locator('[data-testid="sandbox-status"][data-state="ready"]').waitFor({ timeout: timeoutMs }).catch(async () => {
    const state = await page.getByTestId('sandbox-status').getAttribute('data-state', { timeout: 1_000 }).catch(() => 'absent');
    throw new Error(`the sandbox status never became ready (it is ${String(state)}); the terminal shows:\n${await terminalText(page)}`);
  });
  await waitForTerminal(page, endsWithPrompt, 'the prompt', timeoutMs);
}

let markers = 0;

/**
 * Type a command line into the focused terminal with the keyboard, followed by an end marker, and wait for the
 * marker's output. Returns the command's output (the text between the command line and the marker). The marker is
 * typed as `'__e2e'-N__` so its echo differs from the command line that shows it.
 */
export async function runCommand(page: Page, command: string, timeoutMs = 60_000): Promise<string> {
  const n = ++markers;
  const done = `__e2e-${n}__`;
  await typeInTerminal(page, `${command}; echo __e2e'-'${n}__`);
  const text = await waitForTerminal(page, (t) => t.includes(`\n${done}`), `the end of \`${command}\``, timeoutMs);
  const start = text.lastIndexOf(`__e2e'-'${n}__`);
  const end = text.lastIndexOf(`\n${done}`);
  if (start < 0 || start > end) throw new Error(`cannot find the output of \`${command}\` in:\n${text.slice(-2500)}`);
  return text.slice(start + `__e2e'-'${n}__`.length, end).trim();
}

/** Click into the terminal and type a line (each key through xterm, as a learner types), then Enter. */
export async function typeInTerminal(page: Page, line: string): Promise<void> {
  await page.getByTestId('terminal').click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

/** The full sandbox ID from the status chip's title (`Sandbox <id>`). */
export async function sandboxId(page: Page): Promise<string> {
  const title = await page.getByTestId('sandbox-status').getAttribute('title');
  const id = /^Sandbox (\S+)$/.exec(title ?? '')?.[1];
  if (!id) throw new Error(`the status shows no sandbox ID (title: ${String(title)})`);
  return id;
}

/** Save a screenshot of the page as test-artifacts/e2e/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
