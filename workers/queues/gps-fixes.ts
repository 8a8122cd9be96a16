import { createLogger } from "../../src/log";
import { objectNames } from "../../src/objects/names";
import { type Fix, gpsFixesMessageSchema } from "../../src/tracking/schemas";
import type { ConsumerResult } from "./index";

/**
 * Hands each courier's fixes to its `CourierTrack` object. The message is acked only when every
 * courier in it has buffered its fixes durably; a retry re-delivers them and the objects drop
 * the duplicates.
 */
export async function consumeGpsFixes(body: unknown, env: Env): Promise<ConsumerResult> {
  const parsed = gpsFixesMessageSchema.safeParse(body);
  if (!parsed.success)
    return { outcome: "poison", reason: parsed.error.issues[0]?.message ?? "invalid message" };
  const byCourier = new Map<string, Fix[]>();
  for (const fix of parsed.data.fixes) {
    const list = byCourier.get(fix.courierId);
    if (list) list.push(fix);
    else byCourier.set(fix.courierId, [fix]);
  }
  const results = await Promise.allSettled(
    [...byCourier].map(([courierId, fixes]) =>
      env.COURIER_TRACK.getByName(objectNames.courierTrack(courierId)).record(fixes),
    ),
  );
  const failed = results.filter((r) => r.status === "rejected");
  if (failed.length > 0) {
    createLogger().warn("gps fixes not buffered", { couriers_failed: failed.length });
    return { outcome: "retry", reason: `${failed.length} couriers failed to buffer` };
  }
  return { outcome: "ack" };
}
