/**
 * Durable Object names, built in one place. One object per atom: a courier, a seller, a job.
 * Ids are validated before they get here, so a name is never built from untrusted text.
 */
export const objectNames = {
  courierTrack: (courierId: string) => `courier:${courierId}`,
  sellerDebouncer: (sellerId: string) => `seller:${sellerId}`,
  ingestionJob: (jobId: string) => `job:${jobId}`,
} as const;
