import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, type ErrorCode, toProblem } from "../../src/errors";
import { createLogger, errorFields, rootError } from "../../src/log";
import type { AppEnv } from "./context";

const statusCodes: Partial<Record<number, ErrorCode>> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

/** Writes `error` as problem+json, with the request id. */
export function problemResponse(c: Context<AppEnv>, error: AppError): Response {
  const requestId = c.var.requestId ?? crypto.randomUUID();
  const body = toProblem(error, requestId, c.req.path);
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { "content-type": "application/problem+json", "x-request-id": requestId },
  });
}

/**
 * The one error exit of the API: the app's own errors keep their code, Hono's HTTP exceptions map
 * to the matching code, anything else is logged and answered as a generic 500.
 */
export function onError(error: Error, c: Context<AppEnv>): Response {
  if (error instanceof AppError) {
    if (error.status >= 500) (c.var.log ?? createLogger()).error(error.message, { code: error.code });
    return problemResponse(c, error);
  }
  if (error instanceof HTTPException) {
    const code = statusCodes[error.status] ?? (error.status >= 500 ? "internal" : "bad_request");
    return problemResponse(c, new AppError(code, error.message || "request rejected"));
  }
  (c.var.log ?? createLogger()).error("unhandled error", {
    ...errorFields(error),
    stack: (rootError(error) as Error).stack,
  });
  return problemResponse(
    c,
    new AppError("internal", "something went wrong; quote the request id when reporting it"),
  );
}

/** 404 for any route the API does not have, in the same shape. */
export function notFound(c: Context<AppEnv>): Response {
  return problemResponse(c, new AppError("not_found", `no route for ${c.req.method} ${c.req.path}`));
}
