import type { components } from "./schema.js";

/** The API's one error shape: `{"error": {"code", "message", "fields"}}`. */
export type ErrorBody = { error?: { code?: string; message?: string; fields?: Record<string, string[]> } };

/** A refused call: its HTTP status and the API's error (code, message, fields). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const error = (body as ErrorBody | undefined)?.error;
    super(`${status} ${error?.code ?? "error"}: ${error?.message ?? JSON.stringify(body)}`);
  }

  get code(): string | undefined {
    return (this.body as ErrorBody | undefined)?.error?.code;
  }
}

/** The data of a successful call, or an ApiError with what the API said. */
export function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) {
    throw new ApiError(result.response.status, result.error);
  }
  return result.data;
}

export type TokenPair = components["schemas"]["TokenPair"];
