import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import { html } from "hono/html";
import { errorCatalogue } from "../../../src/errors";
import type { AppEnv } from "../context";

/**
 * `GET /docs`: Scalar's interactive reference of `/openapi.json`, with "try it" against this API.
 * Its script is served from the Worker's own assets (`tools/build-assets.mjs` copies it), and it
 * loads no web fonts or telemetry, so the page works from a closed network. `GET /docs/errors`: the
 * error codes, which every problem+json body's `type` points into.
 */
export const docs = new Hono<AppEnv>()
  .get(
    "/",
    Scalar({
      url: "/openapi.json",
      cdn: "/vendor/scalar/standalone.js",
      pageTitle: "geoedge API",
      withDefaultFonts: false,
      telemetry: false,
      // Every operation listed in the sidebar at once; no hosted AI or deploy helpers, which need
      // the internet and are not part of this API.
      defaultOpenAllTags: true,
      showDeveloperTools: "never",
      agent: { disabled: true },
    }),
  )
  .get("/errors", (c) =>
    c.html(html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>geoedge API errors</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 50rem; padding: 1rem; color: #1d2330; }
code { font-family: ui-monospace, monospace; font-size: 13px; }
table { border-collapse: collapse; } td, th { padding: .2rem .6rem; border-bottom: 1px solid #e3e7ee; text-align: left; }
:target { background: #fff6d5; }
</style>
</head>
<body>
<h1>geoedge API errors</h1>
<p>Every error is <code>application/problem+json</code> (RFC 9457) with a stable <code>code</code>, the
<code>request_id</code> (also in <code>X-Request-Id</code>) and, for bad input, <code>errors</code>: the field and
rule that failed. Its <code>type</code> links to the code's row here. The reference is at <a href="/docs">/docs</a>.</p>
<table><tr><th>code</th><th>status</th><th>meaning</th></tr>
${errorCatalogue().map((e) => html`<tr id="${e.code}"><td><code>${e.code}</code></td><td>${e.status}</td><td>${e.title}</td></tr>`)}
</table>
</body>
</html>`),
  );
