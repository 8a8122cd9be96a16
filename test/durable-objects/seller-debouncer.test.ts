import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import type { SellerDebouncer } from "../../durable-objects/seller-debouncer";
import { listNotifications } from "../../src/notifications/repo";
import { objectNames } from "../../src/objects/names";
import { uniqueId } from "../support/keys";
import { testDb } from "../support/services";

const db = testDb();
afterAll(() => db.close());

// A day far enough ahead that the objects' real alarms never fire during the test: time is played
// out by setting each object's clock and running its alarm.
const day = Date.UTC(2030, 0, 1);
const at = (hhmm: string) => day + Number(hhmm.slice(0, 2)) * 3600_000 + Number(hhmm.slice(3)) * 60_000;
const HOUR = 3600_000;

function seller(settings: { quietMs?: number; maxWaitMs?: number | null } = {}) {
  const id = uniqueId("seller");
  const stub = env.SELLER_DEBOUNCER.getByName(objectNames.sellerDebouncer(id));
  const defaults = { quietMs: settings.quietMs ?? HOUR, maxWaitMs: settings.maxWaitMs ?? null };
  return {
    id,
    stub,
    scan: (time: string, ...packages: string[]) =>
      stub.scan(
        id,
        packages.map((packageId) => ({ packageId, scannedAt: at(time) })),
        defaults,
      ),
    /** Plays the clock forward to `time` and lets the alarm run, as the runtime would. */
    alarmAt: (time: string) =>
      runInDurableObject(stub, async (instance: SellerDebouncer) => {
        instance.clock = () => at(time);
        await instance.alarm();
      }),
    stored: async () => (await listNotifications(db.db, id, 10)).reverse(),
  };
}

describe("SellerDebouncer", () => {
  it("example 1: three scans at 12:00 give one notification at 13:00", async () => {
    const s = seller();
    await s.scan("12:00", "AAAAAA", "BBBBBB", "CCCCCC");
    expect((await s.stub.pending()).dueAt).toBe(at("13:00"));
    await s.alarmAt("12:59");
    expect(await s.stored()).toEqual([]);
    await s.alarmAt("13:00");
    const [n, ...more] = await s.stored();
    expect(more).toEqual([]);
    expect(n?.packageIds).toEqual(["AAAAAA", "BBBBBB", "CCCCCC"]);
    expect(n?.dueAt.getTime()).toBe(at("13:00"));
    expect((await s.stub.pending()).packageIds).toEqual([]);
  });

  it("example 2: scans at 12:00 and 12:30 give one notification at 13:30 with all five", async () => {
    const s = seller();
    await s.scan("12:00", "AAAAAA", "BBBBBB", "CCCCCC");
    await s.scan("12:30", "DDDDDD", "EEEEEE");
    expect((await s.stub.pending()).dueAt).toBe(at("13:30"));
    await s.alarmAt("13:00");
    expect(await s.stored()).toEqual([]);
    await s.alarmAt("13:30");
    const stored = await s.stored();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.packageIds).toEqual(["AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE"]);
  });

  it("keeps sellers independent", async () => {
    const a = seller();
    const b = seller();
    await a.scan("12:00", "A1");
    await b.scan("12:20", "B1", "B2");
    await a.alarmAt("13:00");
    await b.alarmAt("13:00");
    expect((await a.stored()).map((n) => n.packageIds)).toEqual([["A1"]]);
    expect(await b.stored()).toEqual([]);
    await b.alarmAt("13:20");
    expect((await b.stored()).map((n) => n.packageIds)).toEqual([["B1", "B2"]]);
  });

  it("lists a package scanned twice once, and restarts the clock on every scan", async () => {
    const s = seller();
    await s.scan("12:00", "AAAAAA", "BBBBBB");
    await s.scan("12:10", "AAAAAA");
    expect((await s.stub.pending()).packageIds).toEqual(["AAAAAA", "BBBBBB"]);
    expect((await s.stub.pending()).dueAt).toBe(at("13:10"));
    await s.alarmAt("13:10");
    expect((await s.stored()).map((n) => n.packageIds)).toEqual([["AAAAAA", "BBBBBB"]]);
  });

  it("notifies a seller who never stops scanning once the maximum wait is reached", async () => {
    const s = seller({ quietMs: HOUR, maxWaitMs: 2 * HOUR });
    for (const t of ["12:00", "12:30", "13:00", "13:30"]) await s.scan(t, `P${t.replace(":", "")}`);
    expect((await s.stub.pending()).dueAt).toBe(at("14:00"));
    await s.alarmAt("14:00");
    expect((await s.stored()).map((n) => n.packageIds)).toEqual([["P1200", "P1230", "P1300", "P1330"]]);
  });

  it("sends once even when the alarm runs twice, and starts the next notification afterwards", async () => {
    const s = seller();
    await s.scan("12:00", "AAAAAA");
    await s.alarmAt("13:00");
    await s.alarmAt("13:00");
    await s.alarmAt("13:05");
    expect(await s.stored()).toHaveLength(1);
    await s.scan("13:01", "BBBBBB");
    await s.alarmAt("14:01");
    const stored = await s.stored();
    expect(stored.map((n) => [n.id, n.packageIds])).toEqual([
      [`${s.id}.1`, ["AAAAAA"]],
      [`${s.id}.2`, ["BBBBBB"]],
    ]);
  });

  it("keeps a sealed notification while Postgres is down and stores it once it is back", async () => {
    const s = seller();
    await s.scan("12:00", "AAAAAA");
    await runInDurableObject(s.stub, async (instance: SellerDebouncer) => {
      const realEnv = Reflect.get(instance, "env") as Env;
      Reflect.set(instance, "env", { ...realEnv, DATABASE_URL: "postgres://postgres@127.0.0.1:9/none" });
      instance.clock = () => at("13:00");
      try {
        await instance.alarm();
      } finally {
        Reflect.set(instance, "env", realEnv);
      }
    });
    expect(await s.stored()).toEqual([]);
    expect((await s.stub.pending()).undelivered).toBe(1);
    // A scan while the notification waits goes into the next one, not this one.
    await s.scan("13:00", "BBBBBB");
    await s.alarmAt("13:10");
    expect((await s.stored()).map((n) => n.packageIds)).toEqual([["AAAAAA"]]);
    expect((await s.stub.pending()).undelivered).toBe(0);
    expect((await s.stub.pending()).packageIds).toEqual(["BBBBBB"]);
  });
});
