// Drives the live-auth demo in headless Chromium: two tabs of one browser
// context and a second context signed in as the same user follow a grant, a
// revoke, a sign-out and a sign-out-everywhere live; then a password reset
// asked for in one browser, done from the mailed link, sends the other
// browser's open tab to the login page; then a visitor signs in through a
// real OpenID Provider's own pages (OIDC_NAME), and a local user links and
// unlinks it on /profile.
//
// Usage: MAIL_DIR=<dir> node two-tabs.mjs http://127.0.0.1:8000
// MAIL_DIR is where the test's SMTP server writes what it receives (N.json
// with the envelope, N.txt with the decoded text body).
// Exits 0 when every step passed, 1 (with the failed step named) otherwise.
// CHROMIUM_PATH overrides the browser (default /usr/bin/chromium).

import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import {
  LIVE_MS, NAVIGATE_MS, StepFailed, checkPage, clickButton, countNavigations, expectConnected,
  expectPath, expectRegion, fail, launchBrowser, pageErrors, pathOf, regionText, step, stepsRun,
  watchErrors, watchdog,
} from "./steps.mjs";

const base = (process.argv[2] || "").replace(/\/+$/, "");
if (!/^https?:\/\/[^/]+$/.test(base)) {
  console.error("usage: node two-tabs.mjs <base-url>, e.g. http://127.0.0.1:8000");
  process.exit(2);
}

const ADMIN_VISIBLE = "Admin content visible.";
const ADMIN_HIDDEN = "Admin content hidden.";
const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "a fresh passphrase from the mail";
const MAIL_DIR = process.env.MAIL_DIR || "";

// The whole run may not hang: a stuck step fails it.
watchdog(120);

/** Signs in through the /login_local form and lands on /live. */
async function logIn(page, label, email, password = PASSWORD) {
  await page.goto(`${base}/login_local`);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expectPath(page, label, "/live");
  await expectConnected(page, label);
}

/**
 * The newest link starting with `prefix` in the mail the SMTP server
 * received for `to`, waiting up to 10 s for it.
 */
async function mailedLink(to, prefix) {
  if (!MAIL_DIR) fail("MAIL_DIR is not set: the harness passes the SMTP server's directory");
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    let found = null;
    for (let n = 1; existsSync(join(MAIL_DIR, `${n}.json`)); n += 1) {
      const envelope = JSON.parse(readFileSync(join(MAIL_DIR, `${n}.json`), "utf8"));
      if (!envelope.to.includes(to) || !existsSync(join(MAIL_DIR, `${n}.txt`))) continue;
      const text = readFileSync(join(MAIL_DIR, `${n}.txt`), "utf8");
      const link = text.split(/\s+/).find((word) => word.startsWith(prefix));
      if (link) found = link;
    }
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  fail(`no mail to ${to} with a link starting ${prefix} within 10 s`);
}

const browser = await launchBrowser();

let exitCode = 0;
try {
  const email = `browser-${randomUUID()}@example.com`;
  const viewport = { width: 1100, height: 900 };
  const first = await browser.newContext({ viewport });
  const second = await browser.newContext({ viewport });
  const tab1 = await first.newPage();
  watchErrors(tab1, "tab 1");
  let tab2;
  let other;

  await step("register a fresh user through /register and land on /live", async () => {
    await tab1.goto(`${base}/register`);
    await tab1.getByLabel("Email", { exact: true }).fill(email);
    await tab1.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await tab1.getByLabel("Display name", { exact: true }).fill("Browser Test");
    await tab1.getByRole("button", { name: "Register", exact: true }).click();
    await expectPath(tab1, "tab 1 after registering", "/live");
    const admin = await regionText(tab1, "admin");
    if (!admin || !admin.includes(ADMIN_HIDDEN)) {
      fail(`a fresh user should see "${ADMIN_HIDDEN}", saw ${JSON.stringify(admin)}`);
    }
    return email;
  });

  await step("open /live in a second tab; both tabs connect", async () => {
    tab2 = await first.newPage();
    watchErrors(tab2, "tab 2");
    await tab2.goto(`${base}/live`);
    await expectPath(tab2, "tab 2", "/live");
    await expectConnected(tab1, "tab 1");
    await expectConnected(tab2, "tab 2");
  });

  const tab2Navigations = countNavigations(tab2);
  await step(`Grant admin in tab 1: tab 2 shows "${ADMIN_VISIBLE}" within ${LIVE_MS} ms, no reload`, async () => {
    await tab2.evaluate(() => {
      window.__marker = 1;
    });
    const before = tab2Navigations.count;
    const clicked = performance.now();
    await clickButton(tab1, "Grant admin");
    await expectRegion(tab2, "tab 2", "admin", ADMIN_VISIBLE, LIVE_MS);
    const ms = Math.round(performance.now() - clicked);
    if (ms > LIVE_MS) fail(`tab 2 changed ${ms} ms after the click, more than ${LIVE_MS} ms`);
    const marker = await tab2.evaluate(() => window.__marker);
    if (marker !== 1) fail(`tab 2 was reloaded: window.__marker is ${JSON.stringify(marker)}, not 1`);
    if (tab2Navigations.count !== before) {
      fail(`tab 2 navigated ${tab2Navigations.count - before} time(s) during the grant`);
    }
    await expectRegion(tab1, "tab 1", "admin", ADMIN_VISIBLE, LIVE_MS);
    const claims = await regionText(tab2, "claims");
    if (!claims || !/role\s*=\s*admin/.test(claims)) {
      fail(`tab 2's claims region should list role = admin, reads ${JSON.stringify(claims)}`);
    }
    return `tab 2 changed ${ms} ms after the click`;
  });

  await step("screenshot of /live with admin visible", async () => {
    const path = join(tmpdir(), "live-auth-admin-visible.png");
    await tab1.screenshot({ path, fullPage: true });
    console.log(`screenshot: ${path}`);
    return path;
  });

  await step("the signed-in pages send the secure headers, keep their CSP and pass axe-core's WCAG 2.1 AA rules", async () => {
    const results = [];
    for (const path of ["/live", "/profile", "/profile/security", "/step-up?next=/account"]) {
      results.push(`${path}: ${await checkPage(first, base, path)}`);
    }
    // The enrolment view: the QR code as inline SVG, the key and the code field.
    const enrol = await first.newPage();
    try {
      await enrol.goto(`${base}/profile/security`);
      await Promise.all([enrol.waitForURL(`${base}/profile/security`), enrol.click("text=Set up an authenticator app")]);
      if (!(await enrol.locator(".qr svg").count())) fail("the enrolment view shows no QR code");
    } finally {
      await enrol.close();
    }
    results.push(`/profile/security (enrolling): ${await checkPage(first, base, "/profile/security")}`);
    return results.join(", ");
  });

  await step("the public pages send the secure headers, keep their CSP and pass axe-core's WCAG 2.1 AA rules", async () => {
    const anonymous = await browser.newContext({ viewport });
    try {
      const results = [];
      for (const path of ["/login_local", "/register", "/login_local?error=invalid", "/login/second-factor?next=/live&error=invalid"]) {
        results.push(`${path}: ${await checkPage(anonymous, base, path)}`);
      }
      return results.join(", ");
    } finally {
      await anonymous.close();
    }
  });

  await step(`Revoke admin in tab 2: both tabs show "${ADMIN_HIDDEN}"`, async () => {
    const before = tab2Navigations.count;
    await clickButton(tab2, "Revoke admin");
    await expectRegion(tab1, "tab 1", "admin", ADMIN_HIDDEN, LIVE_MS);
    await expectRegion(tab2, "tab 2", "admin", ADMIN_HIDDEN, LIVE_MS);
    if (tab2Navigations.count !== before) fail("tab 2 navigated while revoking in it");
    const marker = await tab2.evaluate(() => window.__marker);
    if (marker !== 1) fail("tab 2 was reloaded while revoking in it");
  });

  other = await second.newPage();
  watchErrors(other, "second context");
  const otherNavigations = countNavigations(other);
  await step("a second browser context signs in as the same user via /login_local", async () => {
    await logIn(other, "second context", email);
    await other.evaluate(() => {
      window.__marker = 2;
    });
  });

  await step("Sign out in tab 1: both tabs of the first context land on /login_local", async () => {
    const before = otherNavigations.count;
    await clickButton(tab1, "Sign out");
    await expectPath(tab1, "tab 1", "/login_local");
    await expectPath(tab2, "tab 2", "/login_local");
    // The second context saw the same events; it must still be on /live,
    // unreloaded, with its socket open.
    if (pathOf(other) !== "/live") fail(`the second context left /live for ${other.url()}`);
    if (otherNavigations.count !== before) fail("the second context navigated on the first one's sign-out");
    const marker = await other.evaluate(() => window.__marker);
    if (marker !== 2) fail("the second context's tab was reloaded on the first one's sign-out");
    await expectConnected(other, "second context");
  });

  await step("the second context is still signed in and live", async () => {
    // A live round trip proves its socket still carries updates.
    await clickButton(other, "Grant admin");
    await expectRegion(other, "second context", "admin", ADMIN_VISIBLE, LIVE_MS);
    await clickButton(other, "Revoke admin");
    await expectRegion(other, "second context", "admin", ADMIN_HIDDEN, LIVE_MS);
    // And the server still knows its session.
    await other.reload();
    await expectPath(other, "second context after a reload", "/live");
    await expectConnected(other, "second context after a reload");
    // The first context's tabs stay signed out.
    await tab1.goto(`${base}/live`);
    await expectPath(tab1, "tab 1 opening /live after signing out", "/login_local");
  });

  await step("sign in again in the first context; Sign out everywhere there: every tab lands on /login_local", async () => {
    await logIn(tab1, "tab 1", email);
    await clickButton(tab1, "Sign out everywhere");
    await expectPath(other, "second context", "/login_local");
    await expectPath(tab1, "tab 1", "/login_local");
    await other.goto(`${base}/live`);
    await expectPath(other, "second context opening /live after sign out everywhere", "/login_local");
  });

  await step("forgot password in the first browser, reset from the mailed link: the second browser's open tab lands on /login_local", async () => {
    await logIn(other, "second context", email);
    await tab1.goto(`${base}/forgot-password`);
    await tab1.getByLabel("Email", { exact: true }).fill(email);
    await tab1.getByRole("button", { name: "Send me a reset link", exact: true }).click();
    await expectPath(tab1, "tab 1 after asking for a reset", "/forgot-password");
    const link = await mailedLink(email, `${base}/reset-password?token=`);
    await tab1.goto(link);
    await tab1.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    const clicked = performance.now();
    await tab1.getByRole("button", { name: "Set the new password", exact: true }).click();
    await expectPath(tab1, "tab 1 after the reset", "/login_local");
    await expectPath(other, "the second context's open tab", "/login_local");
    const ms = Math.round(performance.now() - clicked);
    await other.goto(`${base}/live`);
    await expectPath(other, "second context opening /live after the reset", "/login_local");
    await logIn(tab1, "tab 1 with the new password", email, NEW_PASSWORD);
    return `the other browser's tab left ${ms} ms after the click`;
  });

  await step("the account pages send the secure headers, keep their CSP and pass axe-core's WCAG 2.1 AA rules", async () => {
    const results = [`/account: ${await checkPage(first, base, "/account")}`];
    const anonymous = await browser.newContext({ viewport });
    try {
      const token = "0".repeat(64);
      for (const path of [
        "/forgot-password",
        "/forgot-password?done=sent",
        `/reset-password?token=${token}`,
        `/verify-email?token=${token}&error=invalid_token`,
        `/confirm-email?token=${token}`,
        "/login_local?done=reset",
      ]) {
        results.push(`${path}: ${await checkPage(anonymous, base, path)}`);
      }
    } finally {
      await anonymous.close();
    }
    return results.join(", ");
  });

  // The demo is started with a real OpenID Provider (node's oidc-provider,
  // its own login and consent pages) as OIDC_NAME.
  const PROVIDER = process.env.OIDC_NAME || "";
  if (!PROVIDER) fail("OIDC_NAME is not set: the harness starts the demo with a provider");

  /** At the provider: its login page as `login`, then its consent page. */
  async function throughProvider(page, label, login) {
    try {
      await page.waitForSelector("input[name=login]", { timeout: NAVIGATE_MS });
    } catch {
      fail(`${label}: no provider login page at ${page.url()}: ${await page.textContent("body")}`);
    }
    await page.fill("input[name=login]", login);
    await page.fill("input[name=password]", "any password");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await page.getByRole("button", { name: "Continue" }).click({ timeout: NAVIGATE_MS });
    return label;
  }

  const viaProvider = await browser.newContext({ viewport });
  try {
    const page = await viaProvider.newPage();
    await step(`a new visitor signs in through ${PROVIDER}'s own login and consent pages`, async () => {
      await page.goto(`${base}/login_local`);
      await page.getByRole("link", { name: `Sign in with ${PROVIDER}` }).click();
      await throughProvider(page, "provider sign-in", "browser-visitor");
      await expectPath(page, "after the provider", "/live");
      await expectConnected(page, "provider user on /live");
      return page.url();
    });

    await step("the provider is the only way in, so /profile refuses to unlink it", async () => {
      await page.goto(`${base}/profile`);
      await page.getByRole("button", { name: `Unlink ${PROVIDER}` }).click();
      await expectPath(page, "after the refused unlink", "/profile");
      const text = await page.textContent("body");
      if (!/only way to sign in/.test(text)) fail(`no refusal on /profile: ${text}`);
    });
  } finally {
    await viaProvider.close();
  }

  await step(`a signed-in local user links ${PROVIDER} on /profile, then unlinks it`, async () => {
    const page = await first.newPage();
    try {
      await page.goto(`${base}/profile`);
      if (!(await page.textContent("body")).includes(`${PROVIDER}: not linked`)) fail("not shown as not linked");
      await page.getByRole("button", { name: `Link ${PROVIDER}` }).click();
      await throughProvider(page, "provider link", "browser-linker");
      await expectPath(page, "after linking", "/profile");
      if (!(await page.textContent("body")).includes(`${PROVIDER}: linked`)) fail("not shown as linked");
      await page.getByRole("button", { name: `Unlink ${PROVIDER}` }).click();
      await expectPath(page, "after unlinking", "/profile");
      if (!(await page.textContent("body")).includes(`${PROVIDER}: not linked`)) fail("still linked");
    } finally {
      await page.close();
    }
  });

  await step("the pages with provider buttons pass axe-core's WCAG 2.1 AA rules", async () => {
    const results = [];
    for (const path of ["/profile", "/profile?error=last_sign_in"]) results.push(`${path}: ${await checkPage(first, base, path)}`);
    const anonymous = await browser.newContext({ viewport });
    try {
      for (const path of ["/login_local", "/login_local?error=state"]) {
        results.push(`${path}: ${await checkPage(anonymous, base, path)}`);
      }
    } finally {
      await anonymous.close();
    }
    return results.join(", ");
  });

  await step("no uncaught script errors", async () => {
    if (pageErrors.length > 0) fail(pageErrors.join("\n"));
  });

  console.log(`all ${stepsRun()} steps passed`);
} catch (error) {
  if (!(error instanceof StepFailed)) console.error(error && error.stack ? error.stack : error);
  console.error(`FAIL: ${error.message}`);
  exitCode = 1;
} finally {
  await browser.close().catch(() => {});
}
process.exit(exitCode);
