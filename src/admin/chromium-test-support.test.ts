/**
 * The packaged Chromium, whether or not this machine has its own: it is what a fresh machine's
 * `npm test` uses, so it is kept working where the inspector test takes the system's.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { packagedChromiumLaunchOptions } from "./chromium-test-support.js";

test("the packaged Chromium starts and runs a page", async () => {
  const browser = await chromium.launch(await packagedChromiumLaunchOptions());
  try {
    const page = await browser.newPage();
    await page.setContent("<p id=out></p><script>document.getElementById('out').textContent = 'ran ' + (20 + 22)</script>");
    assert.equal(await page.locator("#out").textContent(), "ran 42");
  } finally {
    await browser.close();
  }
});
