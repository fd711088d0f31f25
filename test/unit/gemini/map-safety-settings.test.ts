/** The client's `safety_settings` (generic dict or Gemini's own list) → Gemini `safetySettings`. */

import { describe, expect, test } from "bun:test";
import { mapSafetySettings } from "../../../src/providers/gemini/map-safety-settings.ts";

describe("mapSafetySettings", () => {
  test("the generic dict maps every known category and upper-cases thresholds", () => {
    expect(
      mapSafetySettings({
        harassment: "block_none",
        hate_speech: "block_only_high",
        sexually_explicit: "Block_Medium_And_Above",
        dangerous_content: "BLOCK_LOW_AND_ABOVE",
        civic_integrity: "off",
      }),
    ).toEqual([
      { category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" },
      { category: "HARM_CATEGORY_HATE_SPEECH", threshold: "BLOCK_ONLY_HIGH" },
      { category: "HARM_CATEGORY_SEXUALLY_EXPLICIT", threshold: "BLOCK_MEDIUM_AND_ABOVE" },
      { category: "HARM_CATEGORY_DANGEROUS_CONTENT", threshold: "BLOCK_LOW_AND_ABOVE" },
      { category: "HARM_CATEGORY_CIVIC_INTEGRITY", threshold: "OFF" },
    ]);
  });

  test("unknown dict categories and non-string thresholds are dropped", () => {
    expect(mapSafetySettings({ harassment: "block_none", violence: "block_none", constructor: "block_none", hate_speech: null, dangerous_content: 3 })).toEqual([
      { category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" },
    ]);
  });

  test("an empty dict gives an empty list", () => {
    expect(mapSafetySettings({})).toEqual([]);
  });

  test("Gemini's native list passes unchanged (the original crashed on it)", () => {
    const native = [
      { category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" },
      { category: "HARM_CATEGORY_IMAGE_HATE", threshold: "OFF" },
    ];
    expect(mapSafetySettings(native)).toEqual(native);
  });

  test("list entries keep only category and threshold; malformed entries are dropped", () => {
    expect(
      mapSafetySettings([
        { category: "HARM_CATEGORY_HATE_SPEECH", threshold: "BLOCK_ONLY_HIGH", method: "PROBABILITY" },
        { category: "HARM_CATEGORY_HARASSMENT" },
        "BLOCK_NONE",
        null,
      ]),
    ).toEqual([{ category: "HARM_CATEGORY_HATE_SPEECH", threshold: "BLOCK_ONLY_HIGH" }]);
  });

  test("anything else is not a safety setting: undefined, for the caller to report", () => {
    expect(mapSafetySettings("block_none")).toBeUndefined();
    expect(mapSafetySettings(7)).toBeUndefined();
    expect(mapSafetySettings(null)).toBeUndefined();
  });
});
