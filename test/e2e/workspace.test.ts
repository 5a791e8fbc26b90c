import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FileContent, LessonSummary } from '../../server/protocol.ts';
import { ensureWebBuild } from '../../server/setup/web-build.ts';
import { REPO_ROOT } from '../helpers/engine.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import {
  endsWithPrompt, launchBrowser, openWorkspace, runCommand, sandboxId, screenshot, terminalText, typeInTerminal,
  waitForPrompt, waitForTerminal,
} from './browser.ts';

const DOCKERFILE = ['FROM busybox', 'RUN echo built-by-e2e > /made.txt', 'CMD cat /made.txt'];

/** Occurrences of `needle` in `text`. */
const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('the browser workspace in headless chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    // The server serves web/dist: build it if web/ changed since (`npm run test:e2e` runs no setup).
    await ensureWebBuild(REPO_ROOT, (line) => console.log(line));
    server = await startServer('e2e');
    browser = await launchBrowser();
    ({ page } = await openWorkspace(browser, server.url));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      if (!page || page.isClosed()) return;
      console.error(`terminal of "${task.name}":\n${(await terminalText(page)).trimEnd().slice(-4000)}`);
      await screenshot(page, `failed-${task.name.replace(/\W+/g, '-').slice(0, 60)}`);
    });
  });

  it('runs hello-world typed into the terminal', async () => {
    // A first visit's file tree loads once the session exists (not "no sandbox for this session").
    await expect.poll(() => page.getByTestId('file-tree').textContent(), { timeout: 10_000 }).toMatch(/workspace is empty/i);
    await typeInTerminal(page, 'docker run --rm hello-world');
    await waitForTerminal(page, (t) => /Hello from (Docker|layerlab)!/.test(t), 'the hello-world greeting');
    await waitForTerminal(page, (t) => endsWithPrompt(t.slice(t.lastIndexOf('Hello from'))), 'the prompt after hello-world');
    await screenshot(page, '01-hello-world');
  });

  it('saves a Dockerfile written in Monaco and builds it in the terminal', async () => {
    await page.getByTestId('new-file').click();
    const name = page.locator('dialog input');
    await name.fill('Dockerfile');
    await page.getByTestId('confirm').click();
    await page.locator('[data-testid="editor-tab"][data-path="Dockerfile"]').waitFor({ timeout: 10_000 });

    await page.locator('[data-testid="editor"] .view-lines').click();
    for (const line of DOCKERFILE) {
      await page.keyboard.type(line);
      await page.keyboard.press('Escape'); // close any completion list so Enter is a newline
      await page.keyboard.press('Enter');
    }
    await expect.poll(() => page.getByTestId('save-state').getAttribute('data-state'), { timeout: 5_000 }).toBe('dirty');
    await page.keyboard.press('Control+s');
    await expect.poll(() => page.getByTestId('save-state').getAttribute('data-state'), { timeout: 10_000 }).toBe('saved');

    const res = await page.request.get('/api/file?path=Dockerfile');
    expect(res.status()).toBe(200);
    const file = (await res.json()) as FileContent;
    expect(file.kind === 'text' && file.content.trimEnd()).toBe(DOCKERFILE.join('\n'));
    await expect.poll(() => page.locator('[data-testid="file-item"][data-path="Dockerfile"]').count()).toBe(1);

    const build = await runCommand(page, 'docker build -t app .', 90_000);
    expect(build).toMatch(/Successfully built [0-9a-f]{12}/);
    expect(build).toMatch(/Successfully tagged app:latest/);
    expect(await runCommand(page, 'docker run --rm app')).toBe('built-by-e2e');
    await screenshot(page, '02-dockerfile-built');
  });

  it('publishes nginx on 8080 and shows it in the preview', async () => {
    const id = await runCommand(page, 'docker run -d -p 8080:80 nginx', 60_000);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await page.getByTestId('ports-menu').click();
    const item = page.locator('[data-testid="port-item"][data-port="8080"]');
    await item.waitFor({ timeout: 15_000 });
    await expect.poll(() => item.textContent()).toMatch(/localhost:8080.*:80/);
    await screenshot(page, '03a-ports-menu');
    await item.getByRole('menuitem').click();
    await page.getByTestId('preview-frame').waitFor({ timeout: 10_000 });

    // nginx may still be starting when the frame first loads: reload the preview until it answers.
    await expect.poll(() => previewText(page, 8080), { timeout: 30_000, interval: 1_000 }).toContain('Welcome to nginx!');
    await screenshot(page, '03b-preview-nginx');
  });

  it('finds the same sandbox after a reload, with its output and containers', async () => {
    const before = await sandboxId(page);
    expect(await runCommand(page, 'docker run -d --name e2e-kept busybox sleep 600 >/dev/null && echo kept-$((40+2))')).toBe('kept-42');
    await page.reload();
    await waitForPrompt(page);
    expect(await sandboxId(page)).toBe(before);
    // The replayed scrollback has the earlier output.
    await waitForTerminal(page, (t) => t.includes('\nkept-42'), 'the replayed output');
    const ps = await runCommand(page, "docker ps --format '{{.Names}} {{.Image}}'");
    expect(ps).toMatch(/^e2e-kept busybox$/m);
    expect(ps).toMatch(/ nginx$/m);
    await screenshot(page, '04-after-reload');
  });

  it('resets the sandbox from the UI to an empty one', async () => {
    const before = await sandboxId(page);
    await page.getByTestId('reset-sandbox').click();
    await page.getByTestId('confirm').click();
    await expect.poll(() => sandboxId(page).catch(() => before), { timeout: 30_000 }).not.toBe(before);
    await waitForPrompt(page);
    expect(await terminalText(page)).not.toContain('kept-42');
    expect(await runCommand(page, 'docker ps -aq | wc -l')).toBe('0');
    expect(await runCommand(page, "docker images app --format '{{.Repository}}'")).toBe('');
    expect(await runCommand(page, 'ls -A /workspace | wc -l')).toBe('0');
    await expect.poll(() => page.getByTestId('file-item').count(), { timeout: 10_000 }).toBe(0);
    await page.getByTestId('ports-menu').click();
    await expect.poll(() => page.getByTestId('port-item').count()).toBe(0);
    await page.keyboard.press('Escape');
    await screenshot(page, '05-after-reset');
  });

  it('gives a second browser context its own sandbox that cannot see the first one', async () => {
    expect(await runCommand(page, 'docker create --name e2e-only-in-a busybox >/dev/null && echo created')).toBe('created');
    const b = await openWorkspace(browser, server.url);
    try {
      expect(await sandboxId(b.page)).not.toBe(await sandboxId(page));
      expect(await runCommand(b.page, "docker ps -a --format '{{.Names}}' | grep -c e2e-only-in-a")).toBe('0');
      expect(await runCommand(page, "docker ps -a --format '{{.Names}}' | grep -c e2e-only-in-a")).toBe('1');
      await screenshot(b.page, '06-second-context');
    } finally {
      await b.context.close();
    }
  });

  it('never types terminal query replies back into the shell', async () => {
    // DECRQSS (ESC P $ q m ESC \) and a window-ops report request (CSI 18 t): a terminal that answers them
    // types the answer as input, which `read` would then capture. The page must answer nothing.
    const got = await runCommand(page, String.raw`printf '\033P$qm\033\\\033[18t'; read -r -s -n 64 -t 1 reply; echo "reply=[$(printf %s "$reply" | od -An -c | tr -s " ")]"`);
    expect(got).toMatch(/reply=\[ ?\]$/);
  });

  it("types a lesson's command into the terminal with its Run button", async (ctx) => {
    const lessons = (await (await page.request.get('/api/lessons')).json()) as LessonSummary[];
    if (lessons.length === 0) return ctx.skip('no lessons are written yet (lessons/ has none)');
    await page.locator('.lesson-picker select').selectOption(lessons[0]!.slug);
    const runs = page.locator('[data-testid="lesson"] [data-testid="run-command"]');
    await runs.first().waitFor({ timeout: 10_000 });
    const titles = await runs.evaluateAll((bs) => bs.map((b) => b.getAttribute('title') ?? ''));
    const commands = titles.map((t) => t.replace(/^Type into the terminal:\n/, ''));
    // A short, quick command: hello-world or a listing, else the first one-liner.
    let pick = commands.findIndex((c) => /^docker (run (--rm )?hello-world|version|images|ps|info)\b[^\n]*$/.test(c));
    if (pick < 0) pick = commands.findIndex((c) => !c.includes('\n') && !/\s-(it|ti|i|t)\b/.test(c));
    if (pick < 0) return ctx.skip(`lesson ${lessons[0]!.slug} has no one-line command to run: ${JSON.stringify(commands)}`);
    const command = commands[pick]!;
    const seen = count(await terminalText(page), command);
    await runs.nth(pick).click();
    const text = await waitForTerminal(page, (t) => count(t, command) > seen, `\`${command}\` typed by Run`);
    const after = text.slice(text.lastIndexOf(command));
    expect(after.split('\n')[0]).toBe(command);
    await waitForTerminal(page, (t) => endsWithPrompt(t.slice(t.lastIndexOf(command) + command.length)), `\`${command}\` to finish`, 60_000);
    await screenshot(page, '07-lesson-run');
  });
});

/** The text of the preview frame for `port`; a loaded page without nginx's greeting gets the preview reloaded. */
async function previewText(page: Page, port: number): Promise<string> {
  const iframe = page.locator(`[data-testid="preview-frame"][title="Preview of port ${port}"]`);
  const frame = await (await iframe.elementHandle({ timeout: 2_000 }))?.contentFrame();
  if (!frame) return '(no preview frame)';
  const text = await frame.locator('body').innerText({ timeout: 2_000 }).catch(() => '');
  if (text && !text.includes('Welcome to nginx!')) await page.getByRole('button', { name: 'Reload preview' }).click();
  return text;
}
