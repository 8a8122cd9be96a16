import { Hono } from "hono";
import { html, raw } from "hono/html";
import { errorCatalogue } from "../../../src/errors";
import type { AppEnv } from "../context";

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: unknown }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string }>;
}

type Paths = Record<string, Record<string, Operation>>;

/**
 * `GET /docs`: a self-contained page built from the same OpenAPI document as `/openapi.json`
 * (no CDN: ops people may browse it from a closed network).
 */
export function docsPage(loadDocument: () => object) {
  return new Hono<AppEnv>().get("/", (c) => {
    const doc = loadDocument() as { info: { title: string; version: string }; paths?: Paths };
    const ops = Object.entries(doc.paths ?? {}).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
    );
    return c.html(html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>${doc.info.title} API ${doc.info.version}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; color: #1d2330; }
code, pre { font-family: ui-monospace, monospace; font-size: 13px; }
pre { background: #f3f5f8; padding: .6rem; overflow-x: auto; border-radius: 4px; }
section.op { border-top: 1px solid #d9dee7; padding: .5rem 0; }
.m { display: inline-block; min-width: 4.5rem; font-weight: 700; }
table { border-collapse: collapse; } td, th { padding: .2rem .6rem; border-bottom: 1px solid #e3e7ee; text-align: left; }
</style>
</head>
<body>
<h1>${doc.info.title} API <small>${doc.info.version}</small></h1>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Writes need <code>Authorization: Bearer &lt;key&gt;</code>
with the scope the operation names. Errors are <code>application/problem+json</code> with a stable <code>code</code>
and the <code>request_id</code>.</p>
<h2>Operations</h2>
${ops.map(
  ({ path, method, op }) => html`<section class="op" id="${method.toLowerCase()}-${path}">
<h3><span class="m">${method}</span><code>${path}</code></h3>
<p>${op.summary ?? ""}${op.security?.length ? " (API key required)" : ""}</p>
${op.description ? html`<p>${op.description}</p>` : ""}
${
  op.parameters?.length
    ? html`<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr>
${op.parameters.map(
  (p) =>
    html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${p.required ? "yes" : "no"}</td><td><code>${JSON.stringify(p.schema ?? {})}</code></td></tr>`,
)}</table>`
    : ""
}
${Object.entries(op.requestBody?.content ?? {}).map(
  ([type, body]) =>
    html`<p>Body (<code>${type}</code>):</p><pre>${JSON.stringify(body.schema ?? {}, null, 2)}</pre>`,
)}
<p>Responses: ${raw(
    Object.entries(op.responses ?? {})
      .map(([status, r]) => `<code>${status}</code> ${escapeHtml(r.description ?? "")}`)
      .join("; "),
  )}</p>
</section>`,
)}
<h2>Errors</h2>
<table><tr><th>code</th><th>status</th><th>meaning</th></tr>
${errorCatalogue().map((e) => html`<tr id="error-${e.code}"><td><code>${e.code}</code></td><td>${e.status}</td><td>${e.title}</td></tr>`)}
</table>
</body>
</html>`);
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
