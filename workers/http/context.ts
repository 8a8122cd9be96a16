import { OpenAPIHono } from "@hono/zod-openapi";
import type { ApiKey } from "../../src/auth/api-keys";
import type { Config } from "../../src/config";
import type { Db } from "../../src/db/client";
import { AppError, type FieldError } from "../../src/errors";
import type { Logger } from "../../src/log";
import type { Redis } from "../../src/redis/client";

/** Per-request values every route can read through `c.var`. */
export interface AppVariables {
  requestId: string;
  config: Config;
  log: Logger;
  /** Opens (once per request) a Postgres pool that is ended after the response. */
  db: () => Db;
  /** The Upstash Redis client for this request. */
  redis: () => Redis;
  apiKey?: ApiKey;
}

/** The Hono environment of the whole app. */
export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}

/** Converts zod issues into the API's field errors, prefixing the part of the request they came from. */
export function fieldErrors(issues: readonly Issue[], target?: string): FieldError[] {
  return issues.flatMap((issue) => {
    const prefix = [target, ...issue.path.map(String)].filter(Boolean).join(".");
    if (issue.code === "invalid_union" && issue.errors?.length) {
      return fieldErrors(closestBranch(issue.errors), prefix);
    }
    return [{ field: prefix, rule: issue.code, message: issue.message }];
  });
}

interface Issue {
  path: readonly PropertyKey[];
  code: string;
  message: string;
  errors?: Issue[][];
}

/**
 * For input matching no branch of a union, the branch the client most likely meant: the one with
 * the fewest missing fields, then the fewest problems. A batch that is too long then reports its
 * length, not every field a single item lacks.
 */
function closestBranch(branches: Issue[][]): Issue[] {
  const missing = (issues: Issue[]) => issues.filter((i) => i.message.endsWith("received undefined")).length;
  return [...branches].sort((a, b) => missing(a) - missing(b) || a.length - b.length)[0] ?? [];
}

/**
 * A feature's sub-app. Validation failures throw the app error, so they leave through the one
 * error handler like everything else.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const errors = fieldErrors(result.error.issues, result.target === "json" ? "body" : result.target);
        throw new AppError(
          "validation_failed",
          errors.map((e) => `${e.field}: ${e.message}`).join("; "),
          errors,
        );
      }
    },
  });
}
