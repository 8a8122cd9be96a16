import { quantile } from "./drive";
import { KeepAliveClient } from "./worker";

/** `GET /ping` latency sampled while the Worker is under load: how long the isolate kept it waiting. */
export interface StallStats {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * Sends `GET /ping` (no I/O: it waits only for the isolate) one at a time, `everyMs` apart, until
 * stopped or `maxSamples` were taken. A trivial route answering in seconds means everything else in
 * that workerd (the Worker, its queue consumer, its Durable Objects) waited as long.
 */
export function probeStalls(url: string, everyMs = 200, maxSamples = 20_000): () => Promise<StallStats> {
  const client = new KeepAliveClient(url, 1);
  const latencies: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped && latencies.length < maxSamples) {
      const t0 = performance.now();
      try {
        await client.ok("/ping");
        latencies.push(performance.now() - t0);
      } catch {
        // A failed ping is not a latency; the run's own checks will show what failed.
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    client.close();
    const sorted = Float64Array.from(latencies).sort();
    return {
      samples: sorted.length,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
    };
  };
}
