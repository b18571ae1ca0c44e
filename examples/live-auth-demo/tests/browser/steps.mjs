// What the browser scripts share: steps that name what failed, waits for
// live changes and navigations, the accessibility and header check, and
// the browser launch.

import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// axe-core, evaluated in the page through the DevTools protocol: the pages'
// Content-Security-Policy allows no inline script, and this does not need one.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

// How long a tab may take to show a live change, and to follow a navigate
// frame or a redirect. The bound is loose on purpose: the test runs beside
// the rest of the suite on a busy machine. Each step prints the time it
// measured; on an idle machine a live change takes about 100 ms.
export const LIVE_MS = 5000;
export const NAVIGATE_MS = 5000;

export class StepFailed extends Error {}

/** Fails the current step with `message`. */
export function fail(message) {
  throw new StepFailed(message);
}

let stepNumber = 0;
/** How many steps ran. */
export function stepsRun() {
  return stepNumber;
}

/** Runs one named step, timing it; a failure names the step. */
export async function step(name, body) {
  stepNumber += 1;
  const started = performance.now();
  try {
    const detail = await body();
    const ms = Math.round(performance.now() - started);
    console.log(`ok ${stepNumber} - ${name} (${ms} ms)${detail ? `: ${detail}` : ""}`);
  } catch (error) {
    const why = error instanceof StepFailed ? error.message : (error && error.stack) || String(error);
    console.error(`not ok ${stepNumber} - ${name}\n  ${why.replace(/\n/g, "\n  ")}`);
    throw new StepFailed(`step ${stepNumber} (${name}) failed`);
  }
}

/** The path of a tab's current URL. */
export function pathOf(page) {
  return new URL(page.url()).pathname;
}

/** Waits until `page` is at `path`, or fails with what it shows instead. */
export async function expectPath(page, label, path, timeout = NAVIGATE_MS) {
  try {
    await page.waitForURL((url) => url.pathname === path, { timeout, waitUntil: "load" });
  } catch {
    fail(`${label}: expected to be on ${path} within ${timeout} ms, but it is on ${page.url()}`);
  }
}

/** Waits until the live socket of `page` is open. */
export async function expectConnected(page, label, timeout = NAVIGATE_MS) {
  try {
    await page.waitForFunction(
      () => document.documentElement.getAttribute("data-live") === "connected",
      null,
      { timeout, polling: 25 },
    );
  } catch {
    const state = await page
      .evaluate(() => document.documentElement.getAttribute("data-live"))
      .catch(() => "(page gone)");
    fail(`${label}: the live socket did not connect within ${timeout} ms (data-live=${state}, url ${page.url()})`);
  }
}

/** The text of a live region, or null when the page has none. */
export async function regionText(page, id) {
  return page.evaluate((id) => {
    const el = document.querySelector(`[data-live-region="${id}"]`);
    return el ? el.textContent.trim() : null;
  }, id);
}

/** Waits until the region `id` of `page` contains `text`. */
export async function expectRegion(page, label, id, text, timeout) {
  try {
    await page.waitForFunction(
      ([id, text]) => {
        const el = document.querySelector(`[data-live-region="${id}"]`);
        return !!el && el.textContent.includes(text);
      },
      [id, text],
      { timeout, polling: "raf" },
    );
  } catch {
    const seen = await regionText(page, id).catch(() => "(page gone)");
    fail(`${label}: region "${id}" should read "${text}" within ${timeout} ms, but reads ${JSON.stringify(seen)} (url ${page.url()})`);
  }
}

/** Counts the main-frame navigations of a tab from now on. */
export function countNavigations(page) {
  const counter = { count: 0 };
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) counter.count += 1;
  });
  return counter;
}

/** Collects uncaught script errors of a tab: any one fails the run. */
export const pageErrors = [];
export function watchErrors(page, label) {
  page.on("pageerror", (error) => pageErrors.push(`${label}: ${error.message}`));
}

/** Clicks the live form button labelled `name` (exact match). */
export async function clickButton(page, name) {
  await page.getByRole("button", { name, exact: true }).click({ timeout: NAVIGATE_MS });
}

/**
 * Opens `base` + `path` in a new page of `context` and checks it is locked down and
 * accessible: the secure headers are sent, the page runs under its
 * Content-Security-Policy without a violation, and axe-core finds no WCAG
 * 2.1 AA violation.
 */
export async function checkPage(context, base, path) {
  const page = await context.newPage();
  const violations = [];
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) {
      violations.push(message.text());
    }
  });
  try {
    const response = await page.goto(`${base}${path}`);
    if (!response || response.status() !== 200) fail(`${path} answered ${response && response.status()}`);
    const headers = response.headers();
    const csp = headers["content-security-policy"] || "";
    if (!/script-src 'self'/.test(csp) || !/frame-ancestors 'none'/.test(csp)) {
      fail(`${path}: Content-Security-Policy is ${JSON.stringify(csp)}`);
    }
    if (headers["x-content-type-options"] !== "nosniff") fail(`${path}: no X-Content-Type-Options: nosniff`);
    if (headers["x-frame-options"] !== "DENY") fail(`${path}: no X-Frame-Options: DENY`);
    if (!headers["referrer-policy"]) fail(`${path}: no Referrer-Policy`);
    await page.evaluate(AXE_SOURCE);
    const found = await page.evaluate(
      (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }),
      WCAG_21_AA,
    );
    if (found.violations.length > 0) {
      const list = found.violations.map((v) => `${v.id} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
      fail(`${path}: axe-core found WCAG 2.1 AA violations: ${list.join("; ")}`);
    }
    // Let the page's own script run (the live socket connects) before
    // looking for a policy violation.
    await page.waitForTimeout(200);
    if (violations.length > 0) fail(`${path}: Content-Security-Policy violations: ${violations.join("; ")}`);
    return `${found.passes.length} axe rules passed`;
  } finally {
    await page.close();
  }
}

/** Launches headless Chromium (`CHROMIUM_PATH`, default /usr/bin/chromium). */
export async function launchBrowser() {
  const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Fails the run when it does not finish within `seconds`. */
export function watchdog(seconds) {
  const timer = setTimeout(() => {
    console.error(`FAIL: the browser test did not finish within ${seconds} s`);
    process.exit(1);
  }, seconds * 1000);
  timer.unref();
}
