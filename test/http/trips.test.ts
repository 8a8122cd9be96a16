import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { objectNames } from "../../src/objects/names";
import type { TripChunkMessage } from "../../src/trips/ingest";
import { parseTrip, TRIP_COLUMNS } from "../../src/trips/rows";
import worker from "../../workers/index";
import sample from "../fixtures/trips/trips.csv?raw";
import { authHeaders, uniqueId } from "../support/keys";
import { testDb } from "../support/services";

const db = testDb();
afterAll(() => db.close());

// Region names of this run's own, so answers per region are this run's trips only.
const run = uniqueId("r").slice(2);
const csv = sample.replace(/^(Prague|Turin|Hamburg),/gm, (_, r) => `${r}-${run},`);
const region = (name: string) => `${name}-${run}`;

async function upload(body: string, type = "text/csv") {
  const res = await exports.default.fetch("http://geoedge.test/v1/trips", {
    method: "POST",
    headers: { ...authHeaders("ingest"), "content-type": type },
    body,
  });
  return {
    res,
    body: (await res.json()) as {
      job_id: string;
      accepted: number;
      rejected_count: number;
      rejected: { line: number; reason: string }[];
    },
  };
}

async function get<T>(path: string): Promise<T> {
  const res = await exports.default.fetch(`http://geoedge.test${path}`, { headers: authHeaders("read") });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

async function untilDone(jobId: string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const status = await get<{ status: string; processed: number; accepted: number }>(
      `/v1/ingestion/jobs/${jobId}`,
    );
    if (status.status === "done") return status;
    if (Date.now() > deadline) throw new Error(`job ${jobId} not done: ${JSON.stringify(status)}`);
    await scheduler.wait(50);
  }
}

/** Brute force over the raw trips: count, and the ISO weeks from first to last (or of the range). */
async function bruteForce(where: ReturnType<typeof sql>, from?: string, to?: string) {
  const result = await db.db.execute<{ n: string; weeks: string | null }>(sql`
    WITH m AS (SELECT date_trunc('week', started_at)::date AS w FROM trips WHERE ${where}
               AND (${from ?? null}::date IS NULL OR started_at >= date_trunc('week', ${from ?? null}::date))
               AND (${to ?? null}::date IS NULL OR started_at < date_trunc('week', ${to ?? null}::date) + interval '7 days'))
    SELECT count(*)::text AS n,
           ((coalesce(date_trunc('week', ${to ?? null}::date)::date, max(w)) - coalesce(date_trunc('week', ${from ?? null}::date)::date, min(w))) / 7 + 1)::text AS weeks
    FROM m`);
  const row = result.rows[0];
  const trips = Number(row?.n ?? 0);
  const weeks = trips === 0 && !from ? 0 : Number(row?.weeks ?? 0);
  return { trips, weeks, weekly_average: weeks > 0 ? trips / weeks : 0 };
}

let jobId = "";
beforeAll(async () => {
  const { res, body } = await upload(csv);
  expect(res.status).toBe(202);
  expect(body).toMatchObject({ accepted: 100, rejected_count: 0 });
  jobId = body.job_id;
  await untilDone(jobId);
});

describe("trip ingestion and analytics", () => {
  it("reports the job done with every accepted row processed", async () => {
    const status = await get<{
      status: string;
      accepted: number;
      processed: number;
      failed: number;
      finishedAt: number;
    }>(`/v1/ingestion/jobs/${jobId}`);
    expect(status).toMatchObject({ status: "done", accepted: 100, processed: 100, failed: 0 });
    expect(status.finishedAt).toBeGreaterThan(0);
  });

  it("answers the weekly average of each region like a brute-force count over the raw trips", async () => {
    for (const name of ["Prague", "Turin", "Hamburg"]) {
      const answer = await get<{ trips: number; weeks: number; weekly_average: number }>(
        `/v1/trips/weekly-average?region=${encodeURIComponent(region(name))}`,
      );
      const expected = await bruteForce(sql`region = ${region(name)}`);
      expect(answer).toMatchObject(expected);
      expect(answer.trips).toBeGreaterThan(0);
    }
    const ranged = await get<{ trips: number; weeks: number }>(
      `/v1/trips/weekly-average?region=${encodeURIComponent(region("Turin"))}&from=2018-05-07&to=2018-05-20`,
    );
    expect(ranged).toMatchObject(
      await bruteForce(sql`region = ${region("Turin")}`, "2018-05-07", "2018-05-20"),
    );
    expect(ranged.weeks).toBe(2);
  });

  it("answers bounding boxes exactly, including boxes whose edges cut through cells", async () => {
    const boxes: [number, number, number, number][] = [
      [14.2, 49.9, 14.8, 50.2], // all of Prague
      [14.4, 50.0, 14.47, 50.1], // a slice through the middle
      [7.6, 45.0, 7.7, 45.1], // part of Turin
      [9.9, 53.5, 10.05, 53.6], // part of Hamburg
      [0, 0, 0.001, 0.001], // empty
    ];
    for (const [minLon, minLat, maxLon, maxLat] of boxes) {
      const answer = await get<{ trips: number; weeks: number; weekly_average: number }>(
        `/v1/trips/weekly-average?bbox=${minLon},${minLat},${maxLon},${maxLat}`,
      );
      const expected = await bruteForce(
        sql`origin_lon BETWEEN ${minLon} AND ${maxLon} AND origin_lat BETWEEN ${minLat} AND ${maxLat}`,
      );
      expect(answer, `${minLon},${minLat},${maxLon},${maxLat}`).toMatchObject(expected);
    }
  });

  it("groups similar trips like a brute-force GROUP BY", async () => {
    const groups = (
      await get<{ groups: { origin_cell: string; dest_cell: string; time_bucket: number; trips: number }[] }>(
        `/v1/trips/groups?region=${encodeURIComponent(region("Prague"))}&limit=1000`,
      )
    ).groups;
    const raw = await db.db.execute<{
      origin_cell: string;
      dest_cell: string;
      time_bucket: number;
      n: string;
    }>(sql`
      SELECT origin_cell, dest_cell, time_bucket, count(*)::text AS n FROM trips WHERE region = ${region("Prague")}
      GROUP BY 1, 2, 3`);
    const key = (g: { origin_cell: string; dest_cell: string; time_bucket: number }) =>
      `${g.origin_cell}/${g.dest_cell}/${g.time_bucket}`;
    expect(new Map(groups.map((g) => [key(g), g.trips]))).toEqual(
      new Map(raw.rows.map((r) => [key(r), Number(r.n)])),
    );
    const filtered = await get<{ groups: { trips: number }[] }>(
      `/v1/trips/groups?region=${encodeURIComponent(region("Prague"))}&min_trips=2`,
    );
    expect(filtered.groups.every((g) => g.trips >= 2)).toBe(true);
  });

  it("keeps the good rows of a file with bad ones and reports the bad ones by line", async () => {
    const name = region("Lisbon");
    const lines = [
      TRIP_COLUMNS.join(","),
      `${name},POINT (-9.14 38.72),POINT (-9.15 38.71),2018-05-28 09:03:40,funny_car`,
      `${name},POINT (-9.14 38.72),POINT (200 38.71),2018-05-28 09:03:40,funny_car`,
      `${name},POINT (-9.14 38.72),POINT (-9.15 38.71),2018-02-30 09:03:40,funny_car`,
      `${name},POINT (-9.14 38.72)`,
      `${name},POINT (-9.13 38.73),POINT (-9.15 38.71),2018-05-29 10:00:00,cheap_mobile`,
    ];
    const { res, body } = await upload(lines.join("\n"));
    expect(res.status).toBe(202);
    expect(body.accepted).toBe(2);
    expect(body.rejected.map((r) => r.line)).toEqual([3, 4, 5]);
    expect(body.rejected[0]?.reason).toContain("destination_coord");
    expect(body.rejected[1]?.reason).toContain("datetime");
    await untilDone(body.job_id);
    const status = await get<{ rejected: number; failures: { line: number }[] }>(
      `/v1/ingestion/jobs/${body.job_id}`,
    );
    expect(status.rejected).toBe(3);
    expect(status.failures.map((f) => f.line)).toEqual([3, 4, 5]);
    expect((await get<{ trips: number }>(`/v1/trips/weekly-average?region=${name}`)).trips).toBe(2);

    const bad = await upload("city,from,to\nx,y,z");
    expect(bad.res.status).toBe(400);
  });

  it("counts a replayed queue message once", async () => {
    const name = region("Oslo");
    const parsed = parseTrip(
      {
        region: name,
        origin_coord: "POINT (10.75 59.91)",
        destination_coord: "POINT (10.76 59.92)",
        datetime: "2018-05-28 09:03:40",
        datasource: "x",
      },
      2,
    );
    if (!("row" in parsed)) throw new Error("bad fixture");
    const job = uniqueId("job");
    const message: TripChunkMessage = { v: 1, jobId: job, chunkId: "0", rows: [parsed.row] };
    await env.INGESTION_JOB.getByName(objectNames.ingestionJob(job)).open(job, "trips");
    for (const attempt of [1, 2]) {
      const batch = createMessageBatch("geoedge-trips", [
        { id: `m${attempt}`, timestamp: Date.now(), attempts: attempt, body: message },
      ]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([`m${attempt}`]);
    }
    expect((await get<{ trips: number }>(`/v1/trips/weekly-average?region=${name}`)).trips).toBe(1);
    const groups = await get<{ groups: { trips: number }[] }>(`/v1/trips/groups?region=${name}`);
    expect(groups.groups.map((g) => g.trips)).toEqual([1]);
  });

  it("pushes progress as server-sent events until the job is done", async () => {
    const { body } = await upload(csv.replace(new RegExp(`-${run},`, "g"), `-${run}-sse,`));
    const res = await exports.default.fetch(`http://geoedge.test/v1/ingestion/jobs/${body.job_id}/events`, {
      headers: authHeaders("read"),
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const text = await res.text();
    const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => [
      m[1],
      JSON.parse(m[2] ?? "{}"),
    ]);
    const last = events.at(-1);
    expect(last?.[0]).toBe("done");
    expect(last?.[1]).toMatchObject({ status: "done", accepted: 100, processed: 100 });
  });
});
