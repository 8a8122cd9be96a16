import { describe, expect, it } from "vitest";
import { validateFixes } from "../../src/tracking/ingest";

describe("the old GPS generator's records", () => {
  it("map to fixes: the courier is city and worker, the task is task_id, the old states are geoedge's", () => {
    const t = 1_740_816_000;
    const rows = [
      { id: "LON:12:936", state: "to_provider", coord: [-0.1278, 51.5074], timestamp: t },
      { id: "LON:12:936", state: "to_customer", coord: [-0.128, 51.508], timestamp: t + 10 },
      { id: "MAD:12:0", state: "free", coord: [-3.7038, 40.4168], timestamp: t + 10.5 },
    ].map((row, index) => ({ row, index }));
    const { fixes, rejected } = validateFixes(rows, (t + 60) * 1000);
    expect(rejected).toEqual([]);
    expect(fixes).toEqual([
      expect.objectContaining({
        courierId: "LON:12",
        recordedAt: t * 1000,
        lat: 51.5074,
        lon: -0.1278,
        state: "to_pickup",
        taskId: "936",
      }),
      expect.objectContaining({
        courierId: "LON:12",
        recordedAt: (t + 10) * 1000,
        state: "to_dropoff",
        taskId: "936",
      }),
      // A free worker is on no delivery, whatever task number the record carries.
      expect.objectContaining({
        courierId: "MAD:12",
        recordedAt: (t + 10.5) * 1000,
        state: "free",
        taskId: undefined,
      }),
    ]);
  });

  it("name the old field and the rule when a record is bad, and keep the good rows", () => {
    const now = Date.now();
    const s = Math.floor(now / 1000) - 60;
    const rows = [
      { id: "LON:1:2", state: "to_provider", coord: [-0.1, 51.5], timestamp: s },
      { id: "LON:1:2", state: "to_provider", coord: [-0.1, 89.9], timestamp: s },
      { id: "LON-1-2", state: "free", coord: [-0.1, 51.5], timestamp: s },
      { id: "LON:1:2", state: "offline", coord: [-0.1, 51.5], timestamp: s },
      { id: "LON:1:2", state: "free", coord: [51.5], timestamp: s },
      { id: "LON:1:2", state: "free", coord: [-0.1, 51.5], timestamp: "noon" },
      { id: "LON:1:2", state: "free", coord: [-0.1, 51.5], timestamp: s + 3600 },
      { courier_id: "c-1", recorded_at: now, lat: 1, lon: 1 },
    ].map((row, index) => ({ row, index }));
    const { fixes, rejected } = validateFixes(rows, now);
    expect(fixes.map((f) => f.courierId)).toEqual(["LON:1", "c-1"]);
    expect(rejected.map((r) => [r.index, r.errors[0]?.field, r.errors[0]?.rule])).toEqual([
      [1, "fixes.1.coord.1", "too_big"],
      [2, "fixes.2.id", "invalid_format"],
      [3, "fixes.3.state", "invalid_value"],
      [4, "fixes.4.coord", "too_small"],
      [5, "fixes.5.timestamp", "invalid_type"],
      [6, "fixes.6.timestamp", "too_far_in_future"],
    ]);
  });
});
