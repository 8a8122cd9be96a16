import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** The production bundle served by workerd through Miniflare, without wrangler's dev proxy in front. */
export interface ServedWorker {
  url: string;
  mf: Miniflare;
  dispose(): Promise<void>;
}

/** Builds the production bundle (`wrangler deploy --dry-run`) into `outdir`. */
export async function buildBundle(outdir: string): Promise<void> {
  // Wrangler through this Node (22), as its own `#!/usr/bin/env node` may find an older one.
  await promisify(execFile)(
    process.execPath,
    [join(repoRoot, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir],
    { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 },
  );
}

/**
 * Runs `start` in a fresh temporary directory (under `root`, the OS's by default) and serves what it
 * returns; `dispose` stops Miniflare and removes the directory, and a failed start cleans up both.
 */
export async function serveInTempDir(
  prefix: string,
  root: string | undefined,
  start: (dir: string) => Promise<Miniflare>,
): Promise<ServedWorker> {
  const dir = mkdtempSync(join(root ?? tmpdir(), prefix));
  let mf: Miniflare | undefined;
  try {
    mf = await start(dir);
    const served = mf;
    const url = (await served.ready).origin;
    return {
      url,
      mf: served,
      async dispose() {
        await served.dispose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await mf?.dispose().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Builds the production bundle into a temporary directory and serves it with Miniflare. Only the
 * routes the benchmark calls run, so the Durable Object, queue and rate-limit bindings are left
 * out; vars and secrets are the given ones.
 */
export function serveBundle(bindings: Record<string, string>): Promise<ServedWorker> {
  return serveInTempDir("geoedge-bundle-", undefined, async (dir) => {
    await buildBundle(dir);
    // Miniflare 5 takes the deployment's config shape; the classic options are converted for it.
    return new Miniflare(
      convertV4MiniflareOptions({
        modules: true,
        scriptPath: join(dir, "index.js"),
        // Module names are relative to this root, which must contain the script.
        modulesRoot: dir,
        compatibilityDate: "2026-11-01",
        bindings,
        host: "127.0.0.1",
        port: 0,
      }),
    );
  });
}

/** A bare keep-alive HTTP/1.1 client: a `node:http` agent and nothing else, so the client costs little. */
export class KeepAliveClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly base: string,
    sockets: number,
    private readonly headers: Record<string, string> = {},
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  /** GETs `path`; resolves with the status and body, rejects on a transport error. */
  get(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${this.base}${path}`, { agent: this.agent, headers: this.headers }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (s: string) => {
          body += s;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      });
      req.on("error", reject);
    });
  }

  /** GETs `path` and fails unless it answered 200. */
  async ok(path: string): Promise<string> {
    const { status, body } = await this.get(path);
    if (status !== 200) throw new Error(`GET ${path}: ${status} ${body.slice(0, 300)}`);
    return body;
  }

  close(): void {
    this.agent.destroy();
  }
}
