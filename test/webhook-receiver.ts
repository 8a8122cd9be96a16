import { createServer, type Server } from "node:http";

/** One request the receiver got, and what it answered. */
interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  answered: number;
}

/**
 * A real HTTP webhook receiver for the tests, on loopback. `POST /hook/<name>?fail=N` answers 500
 * to the first N requests for that name and 204 after (`fail=always` never succeeds);
 * `GET /hook/<name>` lists what arrived. Names keep tests apart.
 */
export async function startWebhookReceiver(port: number): Promise<{ url: string; close(): Promise<void> }> {
  const log = new Map<string, Received[]>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const match = /^\/hook\/([A-Za-z0-9_.:-]+)$/.exec(url.pathname);
    if (!match?.[1]) return res.writeHead(404).end();
    const name = match[1];
    const entries = log.get(name) ?? [];
    log.set(name, entries);
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(entries));
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const fail = url.searchParams.get("fail");
      const failing = fail === "always" || entries.length < Number(fail ?? 0);
      const answered = failing ? 500 : 204;
      entries.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
