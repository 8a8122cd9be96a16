import { customType } from "drizzle-orm/pg-core";

/**
 * `xid8`, a 64-bit transaction id that never wraps (Postgres 13+), carried as its decimal text:
 * larger than a JavaScript number can hold exactly, and only ever compared inside Postgres.
 */
export const xid8 = customType<{ data: string; driverData: string }>({
  dataType: () => "xid8",
});
