// Drives two workers of the live-auth demo (on one PostgreSQL and one
// Redis) in headless Chromium with the `live-auth-admin` tool: a user's tab
// on worker A follows `live-auth-admin grant <email> role admin` and
// `live-auth-admin sign-out <email>` without a reload; then an admin in a
// second browser context, on worker B, does the same from the /admin
// console; `live-auth-admin audit --json` shows all four.
//
// Usage: ADMIN_CLI=<path> node console.mjs <worker A url> <worker B url>
// The tool reads LOCAL_AUTH_DB, REDIS_URL and REDIS_PREFIX from this
// process's environment, as the workers do.
// Exits 0 when every step passed, 1 (with the failed step named) otherwise.

import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  LIVE_MS, StepFailed, checkPage, clickButton, countNavigations, expectConnected, expectPath,
  expectRegion, fail, launchBrowser, pageErrors, regionText, step, stepsRun, watchErrors, watchdog,
} from "./steps.mjs";

const [a, b] = process.argv.slice(2, 4).map((url) => (url || "").replace(/\/+$/, ""));
const CLI = process.env.ADMIN_CLI || "";
if (![a, b].every((url) => /^https?:\/\/[^/]+$/.test(url)) || !CLI) {
  console.error("usage: ADMIN_CLI=<path> node console.mjs <worker A url> <worker B url>");
  process.exit(2);
}

const ADMIN_VISIBLE = "Admin content visible.";
const ADMIN_HIDDEN = "Admin content hidden.";
const PASSWORD = "correct horse battery staple";

watchdog(150);

/** Runs the tool with `args`; its standard output. A failure fails the step. */
function cli(...args) {
  try {
    return execFileSync(CLI, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    fail(`live-auth-admin ${args.join(" ")} failed (${error.status}): ${error.stderr}`);
  }
}

/** Registers `email` on `base` in `page`, which lands on /live. */
async function register(page, base, label, email, name) {
  await page.goto(`${base}/register`);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Display name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Register", exact: true }).click();
  await expectPath(page, label, "/live");
  await expectConnected(page, label);
}

/** Signs `email` in on `base` in `page`, which lands on /live. */
async function logIn(page, base, label, email) {
  await page.goto(`${base}/login_local`);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expectPath(page, label, "/live");
  await expectConnected(page, label);
}

/**
 * Runs `change` and checks that `page` shows `text` in region `id` within
 * LIVE_MS without a reload or a navigation; the time it took.
 */
async function expectLive(page, label, id, text, change) {
  const navigations = countNavigations(page);
  await page.evaluate(() => {
    window.__marker = 1;
  });
  const started = performance.now();
  await change();
  await expectRegion(page, label, id, text, LIVE_MS);
  const ms = Math.round(performance.now() - started);
  if ((await page.evaluate(() => window.__marker)) !== 1) fail(`${label} was reloaded`);
  if (navigations.count !== 0) fail(`${label} navigated ${navigations.count} time(s)`);
  return `${label} changed ${ms} ms after the change`;
}

/** Runs `change` and checks that `page` is sent to the login page. */
async function expectSentToLogin(page, label, change) {
  const started = performance.now();
  await change();
  await expectPath(page, label, "/login_local");
  return `${label} on /login_local ${Math.round(performance.now() - started)} ms after the change`;
}

const browser = await launchBrowser();
let exitCode = 0;
try {
  const run = randomUUID();
  const email = `console-user-${run}@example.com`;
  const adminEmail = `console-admin-${run}@example.com`;
  const viewport = { width: 1100, height: 900 };
  const userContext = await browser.newContext({ viewport });
  const adminContext = await browser.newContext({ viewport });
  const tab = await userContext.newPage();
  watchErrors(tab, "the user's tab");
  let userId;
  let console_;

  await step("register a user on worker A; its /live tab shows the admin region hidden", async () => {
    await register(tab, a, "the user's tab", email, "Console User");
    const admin = await regionText(tab, "admin");
    if (!admin || !admin.includes(ADMIN_HIDDEN)) fail(`expected "${ADMIN_HIDDEN}", saw ${JSON.stringify(admin)}`);
    userId = JSON.parse(cli("users", "show", email, "--json")).user_id;
    return userId;
  });

  await step("live-auth-admin grant <email> role admin: the tab on worker A shows the admin region, no reload", async () =>
    expectLive(tab, "the user's tab", "admin", ADMIN_VISIBLE, async () => {
      cli("grant", email, "role", "admin");
    }),
  );

  await step("live-auth-admin sign-out <email>: the tab goes to the login page", async () =>
    expectSentToLogin(tab, "the user's tab", async () => {
      cli("sign-out", email);
    }),
  );

  await step("the user signs in again on worker A without admin (revoked with the tool)", async () => {
    cli("revoke", email, "role");
    await logIn(tab, a, "the user's tab", email);
    const admin = await regionText(tab, "admin");
    if (!admin || !admin.includes(ADMIN_HIDDEN)) fail(`expected "${ADMIN_HIDDEN}", saw ${JSON.stringify(admin)}`);
  });

  await step("a non-admin is refused the console: /admin answers 403", async () => {
    const response = await tab.request.get(`${a}/admin`, { maxRedirects: 0 });
    if (response.status() !== 403) fail(`/admin answered ${response.status()} to a non-admin`);
  });

  await step("an admin (made with the tool) finds the user on /admin on worker B", async () => {
    console_ = await adminContext.newPage();
    watchErrors(console_, "the console");
    await register(console_, b, "the console", adminEmail, "Console Admin");
    cli("grant", adminEmail, "role", "admin");
    await console_.goto(`${b}/admin`);
    await console_.getByLabel("Search by email, name or id").fill(email);
    await console_.getByRole("button", { name: "Search", exact: true }).click();
    await console_.getByRole("link", { name: email, exact: true }).click();
    await expectPath(console_, "the console", `/admin/users/${encodeURIComponent(userId)}`);
    await expectConnected(console_, "the console");
    await expectRegion(console_, "the console", "target-sessions", "Session 1", LIVE_MS);
  });

  await step("the console's user page follows its user live: a claim granted with the tool appears, no reload", async () =>
    expectLive(console_, "the console", "target-claims", "team", async () => {
      cli("grant", email, "team", "blue");
    }),
  );

  await step("Grant claim role=admin in the console on worker B: the user's tab on worker A shows the admin region, no reload", async () =>
    expectLive(tab, "the user's tab", "admin", ADMIN_VISIBLE, async () => {
      await console_.getByLabel("Claim type", { exact: true }).fill("role");
      await console_.getByLabel("Value", { exact: true }).fill("admin");
      await clickButton(console_, "Grant claim");
      await expectRegion(console_, "the console", "target-claims", "admin", LIVE_MS);
    }),
  );

  await step("the admin pages send the secure headers, keep their CSP and pass axe-core's WCAG 2.1 AA rules", async () => {
    const results = [];
    for (const path of ["/admin", `/admin?q=${encodeURIComponent(email)}`, `/admin/users/${encodeURIComponent(userId)}`]) {
      results.push(`${path}: ${await checkPage(adminContext, b, path)}`);
    }
    return results.join(", ");
  });

  await step("Sign out everywhere in the console: the user's tab goes to the login page", async () =>
    expectSentToLogin(tab, "the user's tab", async () => {
      await clickButton(console_, "Sign out everywhere");
      await expectRegion(console_, "the console", "target-sessions", "Not signed in anywhere.", LIVE_MS);
    }),
  );

  await step("live-auth-admin audit --json shows the tool's and the console's grants and sign-outs", async () => {
    const entries = JSON.parse(cli("audit", "--user", email, "--json"));
    const adminId = JSON.parse(cli("users", "show", adminEmail, "--json")).user_id;
    const has = (actor, action, detail) =>
      entries.some((e) => e.actor === actor && e.action === action && (!detail || e.detail === detail) && e.target_user_id === userId);
    const wanted = [
      ["cli:console-test", "grant", "role=admin"],
      ["cli:console-test", "sign-out-everywhere", null],
      [adminId, "grant", "role=admin"],
      [adminId, "sign-out-everywhere", null],
    ];
    for (const [actor, action, detail] of wanted) {
      if (!has(actor, action, detail)) fail(`no ${action} by ${actor} in ${JSON.stringify(entries)}`);
    }
    const fromConsole = entries.filter((e) => e.actor === adminId);
    if (!fromConsole.every((e) => e.source === "127.0.0.1")) fail(`console entries come from ${JSON.stringify(fromConsole)}`);
    return `${entries.length} entries`;
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
