import createClient from "openapi-fetch";

import type { paths } from "./schema.js";
import type { TenantClient } from "./session.js";

export { ApiError, ok } from "./errors.js";
export { fetchConnectingTo } from "./connect-to.js";
export { TokenSession, type TenantClient } from "./session.js";
export type { components, operations, paths } from "./schema.js";

/** A typed client of one business's API, e.g. `createTenantClient("http://demo.localhost:8000")`. */
export function createTenantClient(
  baseUrl: string,
  options: { fetch?: (input: Request) => Promise<Response> } = {},
): TenantClient {
  return createClient<paths>({ baseUrl, ...options });
}
