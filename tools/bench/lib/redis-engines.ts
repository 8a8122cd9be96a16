import {
  ADAPTIVE_NEARBY_LUA,
  adaptiveArgs,
  decodeGeohash,
  redisDistance,
  startRadius,
} from "../../../src/profiles/geo-index";
import type { NearbyHit } from "../../../src/profiles/schemas";
import { RespClient, RespError, type RespValue } from "../../stack/resp";
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

/** What the adaptive script answered, with how far and how often it searched. */
export interface AdaptiveAnswer {
  hits: NearbyHit[];
  searchedRadiusM: number;
  rounds: number;
}

/**
 * Both Redis contenders, sent raw over one pipelined connection so that what is compared is
 * Redis's own work: the full-radius GEOSEARCH, and the adaptive script by EVALSHA with the start
 * radius the app uses (or `start` to try another).
 */
export class RedisContenders {
  private constructor(
    readonly client: RespClient,
    readonly key: string,
    private readonly sha: string,
    /** Redis's process id, to read its CPU time. */
    readonly pid: number,
  ) {}

  static async open(target: { host: string; port: number }, key: string, script = ADAPTIVE_NEARBY_LUA) {
    const client = await RespClient.connect(target);
    const sha = String(await client.send(["SCRIPT", "LOAD", script]));
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

  /**
   * The app's adaptive search, one EVALSHA with the app's arguments; hits (member and geohash)
   * are decoded as the app does, or left unparsed (empty) when `parse` is false.
   */
  async adaptive(q: NearbyQuery, parse = true, start = startRadius(q.radiusM)): Promise<AdaptiveAnswer> {
    const reply = await this.client.send(["EVALSHA", this.sha, 1, this.key, ...adaptiveArgs(q, start)]);
    if (reply instanceof RespError) throw new Error(`Redis: ${reply.message}`);
    const [hits, searched, rounds] = reply as [RespValue, Buffer, number];
    if (!parse) return { hits: [], searchedRadiusM: Number(String(searched)), rounds };
    const decoded = (hits as RespValue[]).map((entry) => {
      const [id, hash] = entry as [Buffer, number];
      const p = decodeGeohash(Number(hash));
      return {
        id: String(id),
        distance_m: redisDistance(q.lat, q.lon, p.lat, p.lon),
        lat: p.lat,
        lon: p.lon,
      };
    });
    return { hits: decoded, searchedRadiusM: Number(String(searched)), rounds };
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
