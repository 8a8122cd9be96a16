/** Stable error codes of the whole API and the HTTP status each one maps to. */
export const errorStatus = {
  validation_failed: 400,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  config_invalid: 500,
  dependency_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

/** One rule broken by one field of the input; `field` is a dotted path such as `fixes.3.lat`. */
export interface FieldError {
  field: string;
  rule: string;
  message: string;
}

/**
 * The one error type of geoedge. HTTP routes, queue consumers, crons and Durable Objects all
 * throw it; the HTTP edge turns it into RFC 9457 problem+json.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;

  constructor(code: ErrorCode, message: string, errors?: FieldError[]) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.errors = errors;
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

/** The problem+json body for an error; `requestId` is always carried so logs and replies meet. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  request_id: string;
  instance?: string;
  errors?: FieldError[];
}

const titles: Record<ErrorCode, string> = {
  validation_failed: "The request is not valid",
  bad_request: "Bad request",
  unauthorized: "Authentication required",
  forbidden: "Not allowed",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  conflict: "Conflict",
  payload_too_large: "Payload too large",
  unsupported_media_type: "Unsupported media type",
  rate_limited: "Too many requests",
  internal: "Internal error",
  config_invalid: "Server misconfigured",
  dependency_unavailable: "A dependency is unavailable",
};

/** Builds the problem body of `error` for the request `requestId`. */
export function toProblem(error: AppError, requestId: string, instance?: string): Problem {
  return {
    type: `/docs/errors#${error.code}`,
    title: titles[error.code],
    status: error.status,
    detail: error.message,
    code: error.code,
    request_id: requestId,
    ...(instance ? { instance } : {}),
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

/** All codes with their status and title, for the errors page. */
export function errorCatalogue(): { code: ErrorCode; status: number; title: string }[] {
  return (Object.keys(errorStatus) as ErrorCode[]).map((code) => ({
    code,
    status: errorStatus[code],
    title: titles[code],
  }));
}
