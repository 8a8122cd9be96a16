import type { Db } from "../../../src/db/client";
import { insertPositions } from "../../../src/tracking/repo";
import type { Fix } from "../../../src/tracking/schemas";
import { inFlight } from "./http-json";

/** Rows written straight to Postgres and how long it took. */
export interface DirectResult {
  /** Fixes sent (duplicates included, as the simulator produced them). */
  fixes: number;
  /** Statements run. */
  statements: number;
  seconds: number;
  fixesPerSecond: number;
}

/**
 * The app's own flush statement (`insertPositions`: one multi-row INSERT … ON CONFLICT DO NOTHING)
 * over `rowsPerStatement` fixes at a time, `concurrency` statements in flight: what the pipeline
 * would do if nothing stood between the client and Postgres.
 */
export async function insertBatched(
  db: Db,
  fixes: Fix[],
  rowsPerStatement: number,
  concurrency: number,
): Promise<DirectResult> {
  const chunks: Fix[][] = [];
  for (let i = 0; i < fixes.length; i += rowsPerStatement) chunks.push(fixes.slice(i, i + rowsPerStatement));
  const t0 = performance.now();
  await inFlight(chunks, concurrency, async (chunk) => {
    await insertPositions(db, chunk);
  });
  const seconds = (performance.now() - t0) / 1000;
  return { fixes: fixes.length, statements: chunks.length, seconds, fixesPerSecond: fixes.length / seconds };
}

/**
 * The anti-pattern DESIGN warns about: one INSERT per fix (the same statement with one row),
 * `concurrency` in flight. Meant for a bounded sample; the rate extrapolates to any volume since
 * each statement costs the same.
 */
export async function insertOneByOne(db: Db, fixes: Fix[], concurrency: number): Promise<DirectResult> {
  const t0 = performance.now();
  await inFlight(fixes, concurrency, async (fix) => {
    await insertPositions(db, [fix]);
  });
  const seconds = (performance.now() - t0) / 1000;
  return { fixes: fixes.length, statements: fixes.length, seconds, fixesPerSecond: fixes.length / seconds };
}
