import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join, resolve } from "node:path";

/** How `/api/events` behaves: the failure modes the provider pull must survive. */
export type ProviderMode = "ok" | "slow" | "error" | "malformed";

const SAMPLES = resolve(import.meta.dirname, "../test/fixtures/fever");
/** The rotation `/api/events` serves, in order: three `eventList` responses, then a `planList` one. */
const ROTATION = [
  "fever-provider-sample-eventList-response1.xml",
  "fever-provider-sample-eventList-response2.xml",
  "fever-provider-sample-eventList-response3.xml",
  "fever-provider-sample-planList-response1.xml",
];

/** A synthetic `planList` of `events` plans with `zones` zones each, written in pieces as it is made. */
function* generatedFeed(events: number, zones: number): Generator<string> {
  yield '<?xml version="1.0" encoding="UTF-8"?>\n<planList version="1.0">\n<output>\n';
  for (let i = 0; i < events; i++) {
    const day = String(1 + (i % 28)).padStart(2, "0");
    const month = String(1 + (Math.floor(i / 28) % 12)).padStart(2, "0");
    const hour = String(10 + (i % 12)).padStart(2, "0");
    const parts = [
      `<base_plan base_plan_id="${100_000 + i}" sell_mode="${i % 10 === 0 ? "offline" : "online"}" title="Generated event ${i}">`,
      `<plan plan_start_date="2027-${month}-${day}T${hour}:00:00" plan_end_date="2027-${month}-${day}T${hour}:45:00" plan_id="${i}" sell_from="2026-01-01T00:00:00" sell_to="2027-12-31T00:00:00" sold_out="false">`,
    ];
    for (let z = 0; z < zones; z++) {
      parts.push(
        `<zone zone_id="${z}" capacity="100" price="${(10 + ((i * 7 + z * 13) % 90)).toFixed(2)}" name="Z${z}" numbered="false"/>`,
      );
    }
    parts.push("</plan></base_plan>\n");
    yield parts.join("");
  }
  yield "</output>\n</planList>\n";
}

/**
 * The local stand-in for the events provider. `GET /api/events` serves the sample responses in
 * rotation, or fails as set with `POST /__mode?mode=ok|slow|error|malformed[&delay_ms=N]`.
 * `GET /samples/<file>` serves one sample; `GET /generated?events=N&zones=M` a large synthetic feed.
 */
export async function startFakeProvider(port: number): Promise<{ url: string; close(): Promise<void> }> {
  let mode: ProviderMode = "ok";
  let delayMs = 10_000;
  let next = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://provider");
    if (req.method === "POST" && url.pathname === "/__mode") {
      const wanted = url.searchParams.get("mode") as ProviderMode | null;
      if (!wanted || !["ok", "slow", "error", "malformed"].includes(wanted))
        return res.writeHead(400).end("mode?\n");
      mode = wanted;
      delayMs = Number(url.searchParams.get("delay_ms") ?? delayMs);
      return res.writeHead(204).end();
    }
    const xml = (body: string) => res.writeHead(200, { "content-type": "application/xml" }).end(body);
    if (url.pathname === "/api/events") {
      if (mode === "error") return res.writeHead(503).end("provider unavailable\n");
      if (mode === "malformed")
        return xml(readFileSync(join(SAMPLES, "fever-provider-sample-malformed.xml"), "utf8"));
      const file = ROTATION[next % ROTATION.length] as string;
      next++;
      const send = () => xml(readFileSync(join(SAMPLES, file), "utf8"));
      if (mode === "slow") setTimeout(send, delayMs).unref();
      else send();
      return;
    }
    const sample = /^\/samples\/([A-Za-z0-9_.-]+\.xml)$/.exec(url.pathname);
    if (sample?.[1]) {
      try {
        return xml(readFileSync(join(SAMPLES, sample[1]), "utf8"));
      } catch {
        return res.writeHead(404).end();
      }
    }
    if (url.pathname === "/generated") {
      res.writeHead(200, { "content-type": "application/xml" });
      const events = Math.min(Number(url.searchParams.get("events") ?? 1000), 1_000_000);
      const zones = Math.min(Number(url.searchParams.get("zones") ?? 10), 1000);
      for (const piece of generatedFeed(events, zones)) res.write(piece);
      return res.end();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolveListen);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.GEOEDGE_PROVIDER_PORT ?? 8790);
  const provider = await startFakeProvider(port);
  console.log(
    `fake events provider on ${provider.url}/api/events (modes: POST ${provider.url}/__mode?mode=slow|error|malformed|ok)`,
  );
}
