import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StoredResponse } from "../../../src/store/response-store.ts";
import { openSqliteResponseStore } from "../../../src/store/sqlite-responses.ts";

const DAY = 24 * 60 * 60 * 1000;

function stored(id: string, createdAt: number, text = "hello", previousId: string | null = null): StoredResponse {
  return {
    id,
    createdAt,
    previousId,
    response: { id, object: "response", status: "completed", output: [{ type: "message", content: [{ type: "output_text", text }] }] },
    inputItems: [{ id: `msg_${id}`, type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] }],
  };
}

describe("SQLite response store", () => {
  test("keeps a response across reopening, deletes it once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "lkp-resp-"));
    const first = openSqliteResponseStore({ dataDir, ttlMs: DAY, maxBytes: 1e9 });
    const original = stored("resp_a", Date.now(), "text", "resp_0");
    await first.put(original);
    first.close();
    const second = openSqliteResponseStore({ dataDir, ttlMs: DAY, maxBytes: 1e9 });
    expect(await second.get("resp_a")).toEqual(original);
    expect(await second.get("resp_missing")).toBeUndefined();
    expect(await second.delete("resp_a")).toBe(true);
    expect(await second.delete("resp_a")).toBe(false);
    expect(await second.get("resp_a")).toBeUndefined();
    second.close();
  });

  test("an expired response is gone, a fresh one is not", async () => {
    let now = 1_000_000;
    const store = openSqliteResponseStore({ dataDir: mkdtempSync(join(tmpdir(), "lkp-resp-")), ttlMs: DAY, maxBytes: 1e9, now: () => now });
    await store.put(stored("resp_old", now));
    now += DAY / 2;
    await store.put(stored("resp_new", now));
    now += DAY / 2 + 1;
    expect(await store.get("resp_old")).toBeUndefined();
    expect((await store.get("resp_new"))?.id).toBe("resp_new");
    store.close();
  });

  test("beyond the size cap the oldest go first and the newest stays", async () => {
    const one = JSON.stringify(stored("resp_0", 0, "x".repeat(1000)));
    const dataDir = mkdtempSync(join(tmpdir(), "lkp-resp-"));
    const options = { dataDir, ttlMs: DAY, maxBytes: one.length * 3, flushIntervalMs: 5 };
    const writer = openSqliteResponseStore(options);
    const base = Date.now();
    for (let index = 0; index < 10; index++) {
      await writer.put(stored(`resp_${index}`, base + index, "x".repeat(1000)));
      await Bun.sleep(15);
    }
    writer.close();
    const store = openSqliteResponseStore(options);
    const kept: string[] = [];
    for (let index = 0; index < 10; index++) if (await store.get(`resp_${index}`)) kept.push(`resp_${index}`);
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.length).toBeLessThanOrEqual(3);
    expect(kept.at(-1)).toBe("resp_9");
    expect(kept).toEqual(kept.toSorted((a, b) => Number(a.slice(5)) - Number(b.slice(5))));
    expect(kept[0]).not.toBe("resp_0");
    store.close();
  });

  test("a put is found at once, before it reaches disk, and reaches disk within the flush interval", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "lkp-resp-"));
    const store = openSqliteResponseStore({ dataDir, ttlMs: DAY, maxBytes: 1e9, flushIntervalMs: 20 });
    const original = stored("resp_fresh", Date.now());
    await store.put(original);
    expect(await store.get("resp_fresh")).toEqual(original);
    const reader = openSqliteResponseStore({ dataDir, ttlMs: DAY, maxBytes: 1e9 });
    expect(await reader.get("resp_fresh")).toBeUndefined();
    await Bun.sleep(60);
    expect(await reader.get("resp_fresh")).toEqual(original);
    expect(await store.delete("resp_fresh")).toBe(true);
    expect(await reader.get("resp_fresh")).toBeUndefined();
    reader.close();
    store.close();
  });

  test("a pending put deleted before it is written never reaches disk; close writes what is pending", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "lkp-resp-"));
    const store = openSqliteResponseStore({ dataDir, ttlMs: DAY, maxBytes: 1e9, flushIntervalMs: 10_000 });
    await store.put(stored("resp_gone", Date.now()));
    await store.put(stored("resp_kept", Date.now()));
    expect(await store.delete("resp_gone")).toBe(true);
    store.close();
    const reopened = openSqliteResponseStore({ dataDir, ttlMs: DAY, maxBytes: 1e9 });
    expect(await reopened.get("resp_gone")).toBeUndefined();
    expect((await reopened.get("resp_kept"))?.id).toBe("resp_kept");
    reopened.close();
  });
});
