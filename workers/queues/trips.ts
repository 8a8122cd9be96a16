import { loadConfig } from "../../src/config";
import { createDb } from "../../src/db/client";
import { objectNames } from "../../src/objects/names";
import type { TripChunkMessage } from "../../src/trips/ingest";
import { insertTripChunk } from "../../src/trips/repo";
import type { ConsumerResult } from "./index";

function isChunk(body: unknown): body is TripChunkMessage {
  const b = body as Partial<TripChunkMessage> | null;
  return Boolean(
    b && b.v === 1 && typeof b.jobId === "string" && typeof b.chunkId === "string" && Array.isArray(b.rows),
  );
}

/**
 * Writes one chunk of trips with its rollups, then reports it to the job. A redelivered chunk
 * inserts nothing (and so adds nothing to the rollups) and its report is ignored by chunk id.
 */
export async function consumeTrips(body: unknown, env: Env): Promise<ConsumerResult> {
  if (!isChunk(body)) return { outcome: "poison", reason: "not a trips chunk" };
  const config = loadConfig(env);
  const handle = createDb(config, 1);
  try {
    await insertTripChunk(handle.db, body.jobId, body.rows, config.tripsH3Resolution);
  } finally {
    await handle.close().catch(() => {});
  }
  await env.INGESTION_JOB.getByName(objectNames.ingestionJob(body.jobId)).report(
    body.chunkId,
    body.rows.length,
    [],
  );
  return { outcome: "ack" };
}
