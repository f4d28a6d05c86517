// Identity and access in the app, through the real reference server, with
// two devices (two browser contexts: separate IndexedDB, separate keys):
// B shows its join code; A (the owner) grants it `clerk` and hands out an
// invite link; B opens it, follows and pulls the stream, is refused a role
// it was never granted (ROLE_NOT_GRANTED explained), fires as clerk and
// syncs; A sees the event signed by B's own signed name; A revokes; B,
// offline meanwhile, fires again and, back online, gets a ROLE_REVOKED
// conflict saying who revoked which role at which seq.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  serveAppWithServer,
  launchBrowser,
  artifacts,
  openApp,
  waitForEvents,
  tokens,
  seriousA11yViolations,
  watchErrors,
} from "./helpers.mjs";

let app;
let browser;
before(async () => {
  app = await serveAppWithServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

// A net with role-restricted transitions: a clerk files what is in the inbox,
// a supervisor reviews it instead (both enabled from the start, so a refusal
// is about the role, not the marking).
const DESK = JSON.stringify({
  name: "Clerk desk",
  places: [
    { id: "inbox", label: "Inbox", initial: 5, x: 60, y: 100 },
    { id: "filed", label: "Filed", x: 220, y: 100 },
    { id: "reviewed", label: "Reviewed", x: 380, y: 100 },
  ],
  transitions: [
    { id: "file", label: "File", roles: ["clerk"], x: 140, y: 100 },
    { id: "review", label: "Review", roles: ["supervisor"], x: 300, y: 100 },
  ],
  arcs: [
    { source: "inbox", target: "file" },
    { source: "file", target: "filed" },
    { source: "inbox", target: "review" },
    { source: "review", target: "reviewed" },
  ],
});

// Chromium's own lines for requests made while offline are expected; nothing else is.
const realErrors = (errors) =>
  errors.filter((e) => !/^Failed to load resource: net::ERR_INTERNET_DISCONNECTED/.test(e));

async function syncNow(page) {
  await page.click("#sync-now");
  await page.waitForFunction(() => document.getElementById("sync-state").dataset.state !== "syncing");
}

const pending = (page, n) =>
  page.waitForFunction((n) => document.getElementById("sync-pending").dataset.count === String(n), n);

async function setName(page, name) {
  await page.fill("#display-name", name);
  await page.click('#name-form button[type="submit"]');
  await page.waitForFunction((name) => document.getElementById("device-name").textContent === name, name);
}

/** The log row of event `seq`: its action cell and its "signed by" cell. */
async function logRow(page, seq) {
  const row = page.locator(`#log tbody tr[data-seq="${seq}"]`);
  const cells = row.locator("td");
  return {
    action: (await cells.nth(1).textContent()).trim(),
    note: (await cells.nth(2).textContent()).trim(),
    signer: (await cells.nth(6).textContent()).trim(),
    signerKey: await cells.nth(6).getAttribute("data-signer"),
    kind: await cells.nth(6).getAttribute("data-signer-kind"),
  };
}

test("two devices: join code, grant, invite link, signed names, ROLE_NOT_GRANTED, revocation offline -> ROLE_REVOKED conflict", async () => {
  const a = await openApp(browser, app.url);
  const b = await openApp(browser, app.url);
  const shot = (p, name) => p.screenshot({ path: `${artifacts}identity-${name}.png`, fullPage: true });

  // B: its identity. The fingerprint is the engine's (four groups of four hex
  // digits), the full key is behind "Full key", the join code holds both.
  const keyB = await b.page.textContent("#device-key-full");
  assert.match(keyB, /^[0-9a-f]{64}$/);
  const printB = await b.page.textContent("#device-fingerprint");
  assert.match(printB, /^[0-9a-f]{4}(-[0-9a-f]{4}){3}$/);
  assert.equal(await b.page.isVisible("#device-key-full"), false, "the full key is shown on demand");
  await b.page.click("#identity-panel summary");
  assert.equal(await b.page.isVisible("#device-key-full"), true);
  // A name the core would refuse is refused here, with the reason.
  await b.page.fill("#display-name", "x".repeat(65));
  await b.page.click('#name-form button[type="submit"]');
  await b.page.waitForSelector("#name-status.bad");
  assert.match(await b.page.textContent("#name-status"), /at most 64 characters \(this one has 65\)/);
  assert.equal(await b.page.textContent("#device-name"), "not set");
  await setName(b.page, "Bob");
  const joinCode = await b.page.inputValue("#join-code");
  const decoded = JSON.parse(Buffer.from(joinCode, "base64url").toString("utf8"));
  assert.deepEqual(decoded, { v: 1, key: keyB, name: "Bob" });
  await b.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(app.url).origin });
  await b.page.click("#copy-join-code");
  await b.page.waitForFunction(() => document.getElementById("join-copy-status").textContent === "Copied.");
  assert.equal(await b.page.evaluate(() => navigator.clipboard.readText()), joinCode);
  await b.page.locator("#identity-panel").scrollIntoViewIfNeeded();
  await shot(b.page, "1-join-code");
  assert.deepEqual(await seriousA11yViolations(b.page), [], "identity panel");

  // A: names itself, imports the desk net: its first event is its signed name, so it owns the stream.
  await setName(a.page, "Alice");
  const keyA = await a.page.textContent("#device-key-full");
  await a.page.setInputFiles("#file-input", {
    name: "desk.json",
    mimeType: "application/json",
    buffer: Buffer.from(DESK),
  });
  await a.page.waitForFunction(() => /^desk-[0-9a-z]{4}$/.test(document.body.dataset.stream));
  const stream = await a.page.getAttribute("body", "data-stream");
  await waitForEvents(a.page, 1);
  assert.deepEqual(await logRow(a.page, 1), {
    action: "$profile You signed the name “Alice”",
    note: "—",
    signer: "you",
    signerKey: keyA,
    kind: "you",
  });
  assert.match(await a.page.textContent("#access-note"), new RegExp(`You own ${stream}`));
  assert.equal(await a.page.textContent("#members-owner"), "you");

  // A grants clerk to B's join code and gets an invite link.
  await a.page.fill("#grant-code", joinCode);
  assert.match(await a.page.textContent("#grant-who"), /calling itself “Bob”/);
  const roles = await a.page.locator("#grant-role option").evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(roles, ["clerk", "supervisor", "*", "$admin"]);
  // A join code that is not one is refused before anything is signed.
  await a.page.fill("#grant-code", "hello");
  assert.match(await a.page.textContent("#grant-who"), /^INVALID_INPUT: /);
  await a.page.fill("#grant-code", joinCode);
  await a.page.selectOption("#grant-role", "clerk");
  await a.page.click('#grant-form button[type="submit"]');
  await waitForEvents(a.page, 2);
  await a.page.waitForSelector("#invite-out:not([hidden])");
  await pending(a.page, 0);
  assert.equal((await logRow(a.page, 2)).action, `$grant You granted clerk to ${printB}`);
  assert.match(await a.page.textContent(`#members tr[data-member="${keyB}"]`), /clerk/);
  const link = await a.page.inputValue("#invite-link");
  const invite = JSON.parse(Buffer.from(new URL(link).hash.replace("#invite=", ""), "base64url").toString("utf8"));
  assert.equal(invite.server, app.url);
  assert.equal(invite.stream, stream);
  assert.deepEqual(invite.roles, ["clerk"]);
  assert.equal(invite.for, keyB);
  await a.page.locator("#members-section").scrollIntoViewIfNeeded();
  await shot(a.page, "2-members-invite");
  assert.deepEqual(await seriousA11yViolations(a.page), [], "members panel");

  // B opens the link: confirms, follows, pulls, and holds clerk.
  await b.page.goto(link);
  await b.page.waitForSelector("dialog[open] [data-choice=join]");
  assert.match(await b.page.textContent("dialog[open]"), new RegExp(`Follow the stream ${stream} on`));
  await b.page.click("dialog[open] [data-choice=join]");
  await b.page.waitForSelector('#invite-box[data-state="good"]');
  assert.equal(await b.page.textContent("#invite-box"), `You hold clerk on ${stream}.`);
  assert.equal(await b.page.getAttribute("body", "data-stream"), stream);
  assert.equal(new URL(b.page.url()).hash, "", "the invite is taken out of the address");
  // B's name is signed on the stream it now holds a role on.
  await waitForEvents(b.page, 3);
  assert.deepEqual(await logRow(b.page, 3), {
    action: "$profile You signed the name “Bob”",
    note: "—",
    signer: "you",
    signerKey: keyB,
    kind: "you",
  });
  assert.deepEqual((await logRow(b.page, 2)).signer, "Alice", "A's own signed name");
  assert.equal((await logRow(b.page, 2)).action, "$grant Alice granted clerk to you");
  await shot(b.page, "3-joined");

  // A role B was never granted: refused, explained, with its join code at hand.
  // (The default "every role" claims, on another owner's stream, the
  // transition's roles this device holds, or else all of them.)
  assert.equal(await b.page.inputValue("#role"), "*");
  // The list and the drawing mark enabled what B may fire: clerk's "file",
  // not the supervisor's "review" (firing it still says why).
  const listed = await b.page
    .locator("#transitions [data-transition]")
    .evaluateAll((ns) => Object.fromEntries(ns.map((n) => [n.dataset.transition, n.dataset.enabled])));
  assert.deepEqual(listed, { file: "true", review: "false" });
  const drawn = await b.page
    .locator("#net svg [data-transition]")
    .evaluateAll((ns) => Object.fromEntries(ns.map((n) => [n.dataset.transition, n.getAttribute("class")])));
  assert.match(drawn.file, /enabled/);
  assert.doesNotMatch(drawn.review, /\benabled/);
  await b.page.click('#transitions [data-transition="review"]');
  await b.page.waitForFunction(() => document.getElementById("error").textContent.includes("role supervisor"));
  assert.match(
    await b.page.textContent("#error"),
    /^ROLE_NOT_GRANTED: this device does not hold the role supervisor \(checked at seq 4\)\. Ask the stream's owner, Alice, to grant it to you: give them your join code\./,
  );
  await shot(b.page, "4-not-granted");
  await b.page.click("#error button");
  assert.equal(await b.page.evaluate(() => document.activeElement.id), "join-code");

  // As clerk (held, so claimed by the default), B files one item and syncs;
  // A sees it signed by "Bob".
  await b.page.click('#transitions [data-transition="file"]');
  await waitForEvents(b.page, 4);
  await syncNow(b.page);
  await pending(b.page, 0);
  await syncNow(a.page);
  await waitForEvents(a.page, 4);
  assert.deepEqual(await logRow(a.page, 4), {
    action: "file",
    note: "me",
    signer: "Bob",
    signerKey: keyB,
    kind: "name",
  });
  assert.equal((await logRow(a.page, 3)).action, "$profile Bob signed the name “Bob”");
  assert.equal(await tokens(a.page, "filed"), 1);
  await shot(a.page, "5-signed-by-bob");

  // A revokes clerk (and syncs); B is offline and does not know yet.
  await b.context.setOffline(true);
  await b.page.waitForSelector('#online-badge[data-state="offline"]');
  await a.page.click(`#members [data-revoke="${keyB}"][data-role="clerk"]`);
  await waitForEvents(a.page, 5);
  await pending(a.page, 0);
  assert.equal((await logRow(a.page, 5)).action, "$revoke You revoked clerk from Bob");
  assert.equal(await a.page.textContent("#revocations li"), "You revoked clerk from Bob at seq 5");
  await shot(a.page, "6-revoked");

  // B fires offline (its chain still has the grant), comes back and syncs.
  await b.page.click('#transitions [data-transition="file"]');
  await waitForEvents(b.page, 5);
  await b.context.setOffline(false);
  await b.page.waitForSelector('#online-badge[data-state="online"]');
  await syncNow(b.page);
  await b.page.waitForSelector("#sync-conflicts li");
  assert.match(
    await b.page.textContent("#sync-conflicts li .c-text"),
    /^file \(note “me”\) was refused: ROLE_REVOKED: /,
  );
  assert.equal(
    await b.page.textContent("#sync-conflicts li .c-reason"),
    "Alice revoked clerk from you at seq 5, before this event (seq 6). It was fired offline and is kept here, not in the chain: discard it, copy it, or ask for the role again.",
  );
  await waitForEvents(b.page, 5);
  assert.equal((await logRow(b.page, 5)).action, "$revoke Alice revoked clerk from you");
  assert.equal(await tokens(b.page, "filed"), 1, "the offline event is not in the chain");
  assert.match(await b.page.textContent("#access-note"), /You hold no role/);
  assert.match(await b.page.textContent("#invite-box"), new RegExp(`^You hold no role on ${stream}: `));
  await b.page.locator("#stream-alerts").scrollIntoViewIfNeeded();
  await shot(b.page, "7-revoked-conflict");
  assert.deepEqual(await seriousA11yViolations(b.page), [], "conflict box");

  // Firing again now is refused at once, saying who revoked it.
  await b.page.click('#transitions [data-transition="file"]');
  await b.page.waitForSelector('#error[data-code="ROLE_REVOKED"]');
  assert.match(await b.page.textContent("#error"), /^ROLE_REVOKED: Alice revoked your role clerk at seq 5\./);
  // The ways out: copy (the conflict as JSON, with who revoked the role), discard.
  await b.page.click('#sync-conflicts li [data-do="copy"]');
  await b.page.waitForFunction(() =>
    document.querySelector("#sync-conflicts .c-status").textContent.startsWith("Copied"),
  );
  const copied = JSON.parse(await b.page.evaluate(() => navigator.clipboard.readText()));
  assert.deepEqual(
    [copied.action, copied.refused.code, copied.refused.role, copied.refused.by, copied.refused.at],
    ["file", "ROLE_REVOKED", "clerk", keyA, 5],
  );
  await b.page.click('#sync-conflicts li [data-do="discard"]');
  await b.page.waitForSelector("#sync-conflicts-box", { state: "hidden" });

  assert.deepEqual(realErrors(a.errors), []);
  assert.deepEqual(realErrors(b.errors), []);
  for (const { context } of [a, b]) await context.close();
});

test("an invite link that cannot be read says why; one for another key warns; a stream the server lacks is said", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  const bad = Buffer.from(JSON.stringify({ v: 1, server: "javascript:alert(1)" })).toString("base64url");
  await page.goto(`${app.url}#invite=${bad}`);
  await page.waitForSelector('#invite-box[data-state="bad"]');
  assert.match(
    await page.textContent("#invite-box"),
    /This invite link cannot be read.*INVALID_INPUT: the invite's server is not an http\(s\) URL/,
  );
  assert.equal(await page.inputValue("#sync-url"), app.url, "the backend is untouched");

  // A readable invite made for another key, of a stream the server does not have.
  const other = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  const invite = { v: 1, server: app.url, stream: "nowhere-1", model: "ab".repeat(32), roles: ["clerk"], for: other };
  const link = `${app.url}#invite=${Buffer.from(JSON.stringify(invite)).toString("base64url")}`;
  // Cancelled: nothing followed.
  await page.goto(link);
  await page.waitForSelector("dialog[open] [data-choice=join]");
  assert.match(await page.textContent("dialog[open]"), /made for another device \(key 21fe-31df-a154-a261\)/);
  await page.click("dialog[open] button[value='']");
  await page.waitForSelector("dialog[open]", { state: "detached" });
  assert.equal(await page.evaluate((url) => localStorage.getItem(`petrichain.follow:${url}`), app.url), null);
  // Joined anyway: followed, and the box says the server has no such stream.
  await page.goto(link);
  await page.click("dialog[open] [data-choice=join]");
  await page.waitForSelector('#invite-box[data-state="bad"]');
  assert.match(
    await page.textContent("#invite-box"),
    /^nowhere-1 was not brought here.*The server has no stream nowhere-1 yet/,
  );
  assert.deepEqual(
    await page.evaluate((url) => JSON.parse(localStorage.getItem(`petrichain.follow:${url}`)), app.url),
    ["nowhere-1"],
  );
  // The one pull of the unlisted stream (so that a stream this key may not
  // read says FORBIDDEN) is answered 404: Chromium logs that; nothing else.
  assert.deepEqual(
    errors.filter((e) => !/status of 404 \(Not Found\)/.test(e)),
    [],
  );
  assert.ok(errors.length <= 1, errors.join("\n"));
  await context.close();
});

test("at 390 px the identity panel, Members and the invite link fit the screen", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(app.url);
  await page.waitForSelector("body[data-ready=true]");
  await setName(page, "Zoë on a phone");
  await page.setInputFiles("#file-input", {
    name: "desk.json",
    mimeType: "application/json",
    buffer: Buffer.from(DESK),
  });
  await waitForEvents(page, 1);
  // Another device's join code (RFC 8032's first test key, a valid Ed25519 point).
  const key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  const code = Buffer.from(JSON.stringify({ v: 1, key, name: "Test key" })).toString("base64url");
  await page.fill("#grant-code", code);
  assert.match(await page.textContent("#grant-who"), /^Key 21fe-31df-a154-a261, calling itself “Test key”$/);
  await page.selectOption("#grant-role", "$admin");
  await page.tap('#grant-form button[type="submit"]');
  await waitForEvents(page, 2);
  await page.waitForSelector("#invite-out:not([hidden])");
  assert.equal((await logRow(page, 2)).action, "$grant You granted admin to 21fe-31df-a154-a261");
  assert.match(await page.textContent(`#members tr[data-member="${key}"]`), /admin/);
  // A new name is signed at once on the streams this device owns.
  await setName(page, "Zoë");
  await page.waitForFunction(() => /signed on 1 stream/.test(document.getElementById("name-status").textContent));
  await waitForEvents(page, 3);
  assert.equal((await logRow(page, 3)).action, "$profile You signed the name “Zoë”");
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 390, `nothing wider than the screen (${wide} px)`);
  for (const id of ["identity-panel", "members-section", "invite-link", "join-code"]) {
    const box = await page.locator(`#${id}`).boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `#${id} within the screen: ${JSON.stringify(box)}`);
  }
  await page.locator("#members-section").scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${artifacts}identity-390-members.png` });
  await page.locator("#identity-panel").scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${artifacts}identity-390-device.png` });
  assert.deepEqual(await seriousA11yViolations(page), [], "identity and members at 390 px");
  assert.deepEqual(errors, []);
  await context.close();
});
