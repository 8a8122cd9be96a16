import { loadConfig } from "../../src/config";
import { objectNames } from "../../src/objects/names";
import type { TripChunkMessage } from "../../src/trips/ingest";
import { insertTripChunk } from "../../src/trips/repo";
import type { BatchIo, ConsumerResult } from "./index";

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
export async function consumeTrips(
  body: unknown,
  env: Env,
  _attempts: number,
  io: BatchIo,
): Promise<ConsumerResult> {
  if (!isChunk(body)) return { outcome: "poison", reason: "not a trips chunk" };
  await insertTripChunk(io.db(), body.jobId, body.rows, loadConfig(env).tripsH3Resolution);
  await env.INGESTION_JOB.getByName(objectNames.ingestionJob(body.jobId)).report(
    body.chunkId,
    body.rows.length,
    [],
  );
  return { outcome: "ack" };
}
