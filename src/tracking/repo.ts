import { lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { courierPositions } from "../db/schema";
import type { Fix } from "./schemas";

/**
 * Writes fixes in one multi-row INSERT. Idempotent: a fix already stored (same courier and
 * recorded time) is skipped, so a replayed flush never duplicates. Returns the rows inserted.
 */
export async function insertPositions(db: Db, fixes: Fix[]): Promise<number> {
  if (fixes.length === 0) return 0;
  const inserted = await db
    .insert(courierPositions)
    .values(
      fixes.map((f) => ({
        courierId: f.courierId,
        recordedAt: new Date(f.recordedAt),
        location: { lon: f.lon, lat: f.lat },
        speedMps: f.speedMps ?? null,
        headingDeg: f.headingDeg ?? null,
        accuracyM: f.accuracyM ?? null,
        state: f.state ?? null,
        taskId: f.taskId ?? null,
      })),
    )
    .onConflictDoNothing()
    .returning({ id: courierPositions.id });
  return inserted.length;
}

/** Deletes positions recorded before `before`; returns how many went. */
export async function deletePositionsBefore(db: Db, before: Date): Promise<number> {
  const gone = await db
    .delete(courierPositions)
    .where(lt(courierPositions.recordedAt, before))
    .returning({ id: courierPositions.id });
  return gone.length;
}
