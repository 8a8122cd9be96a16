import { CELL_COUNTS_LUA, DensityCache } from "../../../src/profiles/density";
import {
  adaptiveSearch,
  decodeHits,
  type GeoCommands,
  type RawHashHit,
  type RedisNearbyResult,
  searchCommand,
} from "../../../src/profiles/geo-index";
import type { NearbyHit } from "../../../src/profiles/schemas";
import { RespClient, RespError, type RespTarget, type RespValue } from "../../stack/resp";
import type { NearbyQuery } from "./naive";

/** GEOSEARCH … WITHDIST WITHCOORD replies as hits. */
function toHits(raw: RespValue): NearbyHit[] {
  if (raw instanceof RespError) throw new Error(`Redis: ${raw.message}`);
  return (raw as RespValue[]).map((entry) => {
    const [id, d, coord] = entry as [Buffer, Buffer, [Buffer, Buffer]];
    return {
      id: String(id),
      distance_m: Number(String(d)),
      lon: Number(String(coord[0])),
      lat: Number(String(coord[1])),
    };
  });
}

/**
 * Both Redis contenders, sent raw over one pipelined connection so that what is compared is
 * Redis's own work: the full-radius GEOSEARCH, and the app's adaptive search (the same
 * `adaptiveSearch`, with its own density cache) through {@link GeoCommands} over RESP.
 */
export class RedisContenders implements GeoCommands {
  /** The adaptive search's density cache, as a new isolate starts with. */
  density = new DensityCache();

  private constructor(
    readonly client: RespClient,
    readonly key: string,
    private readonly sha: string,
    /** Redis's process id, to read its CPU time. */
    readonly pid: number,
  ) {}

  static async open(target: RespTarget, key: string) {
    const client = await RespClient.connect(target);
    const sha = String(await client.send(["SCRIPT", "LOAD", CELL_COUNTS_LUA]));
    const info = String(await client.send(["INFO", "server"]));
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    return new RedisContenders(client, key, sha, pid);
  }

  /**
   * The plain full-radius search. The throughput runs leave replies unparsed (`parse` false) for
   * both contenders, so the client's work stays the same and small.
   */
  async geosearch(q: NearbyQuery, parse = true): Promise<NearbyHit[]> {
    const reply = await this.client.send([
      "GEOSEARCH",
      this.key,
      "FROMLONLAT",
      q.lon,
      q.lat,
      "BYRADIUS",
      q.radiusM,
      "m",
      "ASC",
      "COUNT",
      q.limit,
      "WITHDIST",
      "WITHCOORD",
    ]);
    if (!parse) {
      if (reply instanceof RespError) throw new Error(`Redis: ${reply.message}`);
      return [];
    }
    return toHits(reply);
  }

  async search(key: string, lon: number, lat: number, radiusM: number, k: number): Promise<RawHashHit[]> {
    const reply = await this.client.send(searchCommand(key, lon, lat, radiusM, k));
    if (reply instanceof RespError) throw new Error(`Redis: ${reply.message}`);
    return reply as unknown as RawHashHit[];
  }

  async cellCounts(key: string, args: string[]): Promise<number[]> {
    const reply = await this.client.send(["EVALSHA", this.sha, 1, key, ...args]);
    if (reply instanceof RespError) throw new Error(`Redis: ${reply.message}`);
    return reply as number[];
  }

  /**
   * The app's adaptive search; hits (member and geohash) are decoded as the app does, or left
   * undecoded (empty) when `parse` is false.
   */
  async adaptive(q: NearbyQuery, parse = true): Promise<RedisNearbyResult> {
    const { raw, searchedRadiusM, rounds } = await adaptiveSearch(this, this.key, q, this.density);
    return { hits: parse ? decodeHits(raw, q) : [], searchedRadiusM, rounds };
  }

  /** Redis's `used_memory`, in bytes. */
  async usedMemory(): Promise<number> {
    const info = String(await this.client.send(["INFO", "memory"]));
    return Number(/used_memory:(\d+)/.exec(info)?.[1]);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
