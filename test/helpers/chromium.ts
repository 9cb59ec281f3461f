/**
 * A real browser for the page tests: Debian's chromium, driven by
 * playwright-core. `scripts/ci-deps.sh` installs chromium in CI.
 *
 *     const skip = chromiumSkip();
 *     test("…", { skip }, async (t) => { const browser = await launchChromium(); … });
 *
 * Without chromium a test skips with the reason on a developer's machine, and
 * fails under CI (CI set), where a missing browser must not pass silently.
 *
 * Screenshots go to `test-output/screenshots/` at the repository root (not
 * committed); `screenshot()` prints each path so the run's output names it.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where the screenshots are saved. */
export const SCREENSHOT_DIR = join(REPO_ROOT, "test-output", "screenshots");

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The chromium executable, or null. */
export function chromiumPath(): string | null {
  for (const path of CANDIDATES) if (path != null && path !== "" && existsSync(path)) return path;
  return null;
}

/**
 * The skip reason for a browser test: false when chromium is here. Under CI
 * it throws instead, so the run fails rather than skipping the check.
 */
export function chromiumSkip(): string | false {
  if (chromiumPath() != null) return false;
  const reason = "chromium not found (scripts/ci-deps.sh installs Debian's chromium)";
  if (process.env.CI != null && process.env.CI !== "" && process.env.CI !== "false") {
    throw new Error(`${reason}; CI needs it for the browser tests`);
  }
  console.log(`# skipped: ${reason}`);
  return reason;
}

/** Starts headless chromium with the flags this closed network needs. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  assert.ok(executablePath != null, "chromium not found");
  return await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/** Saves a full-page screenshot as `test-output/screenshots/NAME.png` and prints its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`# screenshot: ${path}`);
  return path;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

let axeSource: string | undefined;

/**
 * Runs axe-core in the page and returns the violations of impact "serious"
 * or "critical", each with the selectors of the nodes it names.
 */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  if (axeSource == null) {
    const require = createRequire(import.meta.url);
    axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  }
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const result = await axe.run(document);
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.map(String).join(" ")) }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}
