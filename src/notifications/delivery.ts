import type { NotificationRow, Seller } from "./repo";
import { SIGNATURE_HEADER, signatureHeader } from "./signing";

/** How long a receiver may take to answer one delivery. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** The JSON a seller's webhook receives. */
export function webhookBody(n: NotificationRow): string {
  return JSON.stringify({
    id: n.id,
    type: "packages.scanned",
    seller_id: n.sellerId,
    package_ids: n.packageIds,
    first_scan_at: n.firstScanAt.toISOString(),
    last_scan_at: n.lastScanAt.toISOString(),
    created_at: n.createdAt.toISOString(),
  });
}

/** The outcome of one delivery attempt. */
export type DeliveryResult = { ok: true; status: number } | { ok: false; error: string };

/**
 * POSTs the notification to the seller's webhook, signed. A 2xx is success; anything else, a
 * timeout or a network error is a failure the caller retries.
 */
export async function deliver(
  n: NotificationRow,
  seller: Pick<Seller, "webhookUrl" | "signingSecret">,
  nowS: number,
  fetcher: typeof fetch = fetch,
): Promise<DeliveryResult> {
  if (!seller.webhookUrl) return { ok: false, error: "the seller has no webhook" };
  const body = webhookBody(n);
  try {
    const res = await fetcher(seller.webhookUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "geoedge-webhooks/1",
        "x-geoedge-notification-id": n.id,
        [SIGNATURE_HEADER]: await signatureHeader(seller.signingSecret, body, nowS),
      },
      body,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    // The body is not needed; draining it frees the connection.
    await res.body?.cancel();
    return res.ok
      ? { ok: true, status: res.status }
      : { ok: false, error: `receiver answered ${res.status}` };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
