import { describe, expect, it } from "vitest";
import { MESSAGE_BYTES, packFixes, parseNdjson, validateFixes } from "../../src/tracking/ingest";
import type { Fix } from "../../src/tracking/schemas";

describe("packing fixes into queue messages", () => {
  it("keeps every fix, stays under the byte limit, and groups a courier's fixes together", () => {
    const fixes: Fix[] = Array.from({ length: 5000 }, (_, i) => ({
      courierId: `c-${i % 37}`,
      recordedAt: 1_700_000_000_000 + i * 1000,
      lat: 40 + (i % 100) / 1000,
      lon: -3 - (i % 50) / 1000,
      speedMps: 5.5,
      headingDeg: 123.4,
      accuracyM: 6,
      state: "to_dropoff",
      taskId: `task-${i % 11}`,
    }));
    const messages = packFixes(fixes);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(JSON.stringify(m).length).toBeLessThanOrEqual(MESSAGE_BYTES);
    const out = messages.flatMap((m) => m.fixes);
    expect(out).toHaveLength(fixes.length);
    expect(new Set(out.map((f) => `${f.courierId}@${f.recordedAt}`)).size).toBe(fixes.length);
    // Grouped: each courier's fixes span at most two neighbouring messages.
    for (let c = 0; c < 37; c++) {
      const holding = messages
        .map((m, i) => (m.fixes.some((f) => f.courierId === `c-${c}`) ? i : -1))
        .filter((i) => i >= 0);
      expect((holding.at(-1) ?? 0) - (holding[0] ?? 0)).toBeLessThanOrEqual(1);
    }
  });
});

describe("validating fixes", () => {
  it("rejects fixes stamped too far in the future, by row", () => {
    const now = Date.now();
    const { fixes, rejected } = validateFixes(
      [
        { row: { courier_id: "c1", recorded_at: now, lat: 1, lon: 1 }, index: 0 },
        { row: { courier_id: "c1", recorded_at: now + 3_600_000, lat: 1, lon: 1 }, index: 1 },
      ],
      now,
    );
    expect(fixes).toHaveLength(1);
    expect(rejected).toEqual([
      {
        index: 1,
        errors: [expect.objectContaining({ field: "fixes.1.recorded_at", rule: "too_far_in_future" })],
      },
    ]);
  });

  it("numbers NDJSON lines from 1 and reports lines that are not JSON", () => {
    const { rows, rejected } = parseNdjson('{"a":1}\n\nnot json\n{"b":2}\n');
    expect(rows.map((r) => r.line)).toEqual([1, 4]);
    expect(rejected).toEqual([
      { line: 3, errors: [expect.objectContaining({ field: "line.3", rule: "invalid_json" })] },
    ]);
  });
});
