import { SaxesParser } from "saxes";

/** One event (a plan of a base event) as read from the provider's feed. */
export interface FeedEvent {
  baseId: string;
  planId: string;
  title: string;
  sellMode: string;
  /** Provider-local wall-clock time, `YYYY-MM-DDTHH:MM:SS`. */
  startsAt: string;
  endsAt: string;
  minPrice: number | null;
  maxPrice: number | null;
}

/** A plan the feed described but that could not be used, and why. */
export interface SkippedPlan {
  baseId: string;
  planId: string;
  reason: string;
}

/** The parsed feed: usable events and the plans skipped (the rest of the feed still counts). */
export interface ParsedFeed {
  format: "planList" | "eventList";
  events: FeedEvent[];
  skipped: SkippedPlan[];
}

/** A feed that cannot be trusted as a whole (truncated, malformed, unknown format): nothing is applied. */
export class FeedError extends Error {
  override readonly name = "FeedError";
}

// The two formats name the same things differently.
const names = {
  planList: {
    base: "base_plan",
    baseId: "base_plan_id",
    plan: "plan",
    planId: "plan_id",
    start: "plan_start_date",
    end: "plan_end_date",
  },
  eventList: {
    base: "base_event",
    baseId: "base_event_id",
    plan: "event",
    planId: "event_id",
    start: "event_start_date",
    end: "event_end_date",
  },
} as const;

/**
 * A copy of an attribute value that does not share memory with the parser's input chunk: a slice
 * would keep the whole chunk alive, so memory would grow with the feed's size rather than its plans.
 */
function own(value: string | undefined): string {
  return value ? ` ${value}`.slice(1) : "";
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

/** Checks a local date-time is real (no 31 September, no 25:00), returning why not. */
export function invalidDateTime(value: string | undefined): string | undefined {
  if (!value) return "missing";
  const m = DATE_TIME.exec(value);
  if (!m) return `'${value}' is not YYYY-MM-DDTHH:MM:SS`;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  const real =
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s;
  return real ? undefined : `'${value}' is not a real date`;
}

/**
 * Parses the provider's XML as it streams in, keeping only one small record per plan (zones are
 * folded into min and max price as they pass), so a feed of thousands of plans with hundreds of
 * zones each needs memory for the plans only. Any XML error, or a feed that is not a complete
 * `planList`/`eventList` with an `output`, throws {@link FeedError}: callers apply nothing.
 */
export async function parseFeed(chunks: AsyncIterable<string> | Iterable<string>): Promise<ParsedFeed> {
  const parser = new SaxesParser();
  let failure: Error | undefined;
  let format: ParsedFeed["format"] | undefined;
  let sawOutput = false;
  let base: { id: string; title: string; sellMode: string } | undefined;
  let plan: (FeedEvent & { problem?: string }) | undefined;
  const events: FeedEvent[] = [];
  const skipped: SkippedPlan[] = [];
  let depth = 0;

  parser.on("error", (error) => {
    failure ??= error;
  });
  parser.on("opentag", (tag) => {
    depth++;
    const a = tag.attributes as Record<string, string>;
    if (depth === 1) {
      if (tag.name !== "planList" && tag.name !== "eventList")
        failure ??= new FeedError(`unknown feed root <${tag.name}>`);
      else format = tag.name;
      return;
    }
    if (!format) return;
    const n = names[format];
    if (tag.name === "output" && depth === 2) sawOutput = true;
    else if (tag.name === n.base) {
      base = { id: own(a[n.baseId]), title: own(a.title), sellMode: own(a.sell_mode) };
    } else if (tag.name === n.plan && base) {
      const startsAt = own(a[n.start]);
      const endsAt = own(a[n.end]);
      const bad = invalidDateTime(startsAt) ?? invalidDateTime(endsAt);
      plan = {
        baseId: base.id,
        planId: own(a[n.planId]),
        title: base.title,
        sellMode: base.sellMode,
        startsAt,
        endsAt,
        minPrice: null,
        maxPrice: null,
        ...(bad ? { problem: `date ${bad}` } : !base.id || !a[n.planId] ? { problem: "missing id" } : {}),
      };
    } else if (tag.name === "zone" && plan) {
      const price = Number(a.price);
      if (Number.isFinite(price)) {
        plan.minPrice = plan.minPrice === null ? price : Math.min(plan.minPrice, price);
        plan.maxPrice = plan.maxPrice === null ? price : Math.max(plan.maxPrice, price);
      }
    }
  });
  parser.on("closetag", (tag) => {
    depth--;
    if (!format) return;
    const n = names[format];
    if (tag.name === n.plan && plan) {
      const { problem, ...event } = plan;
      if (problem) skipped.push({ baseId: event.baseId, planId: event.planId, reason: problem });
      else events.push(event);
      plan = undefined;
    } else if (tag.name === n.base) base = undefined;
  });

  for await (const chunk of chunks) {
    parser.write(chunk);
    if (failure) break;
  }
  if (!failure) parser.close();
  if (failure)
    throw failure instanceof FeedError ? failure : new FeedError(`malformed XML: ${failure.message}`);
  if (!format) throw new FeedError("empty feed");
  if (!sawOutput) throw new FeedError("the feed has no <output>");
  return { format, events, skipped };
}

/** Decodes a response body into text chunks for {@link parseFeed}. */
export async function* textChunks(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    yield decoder.decode(chunk, { stream: true });
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}
