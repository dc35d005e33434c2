import type { Client, Middleware } from "openapi-fetch";

import { ApiError, ok, type TokenPair } from "./errors.js";
import type { paths } from "./schema.js";

export type TenantClient = Client<paths>;

/**
 * JWT sign-in on one host. Adds the access token to every call of its client; `refresh()`
 * rotates the pair (the refresh token sent is spent, the answer holds the next one);
 * `signOut()` revokes the refresh token. A pair works only on the host that issued it.
 */
export class TokenSession {
  private pair: TokenPair | null = null;

  constructor(private readonly api: TenantClient) {
    api.use(this.bearer);
  }

  private readonly bearer: Middleware = {
    onRequest: ({ request }) => {
      if (this.pair !== null) {
        request.headers.set("Authorization", `Bearer ${this.pair.access}`);
      }
      return request;
    },
  };

  get refreshToken(): string | null {
    return this.pair?.refresh ?? null;
  }

  async signIn(email: string, password: string): Promise<void> {
    this.pair = ok(await this.api.POST("/api/auth/token/", { body: { email, password } }));
  }

  /** A new pair for the current one; call it when a call answers 401 or before the access
   * token expires (JWT_ACCESS_MINUTES, 15 by default). */
  async refresh(): Promise<void> {
    const refresh = this.requireSignedIn().refresh;
    this.pair = ok(await this.api.POST("/api/auth/token/refresh/", { body: { refresh } }));
  }

  async signOut(): Promise<void> {
    const refresh = this.requireSignedIn().refresh;
    const { response, error } = await this.api.POST("/api/auth/logout/", { body: { refresh } });
    if (response.status !== 204) {
      throw new ApiError(response.status, error);
    }
    this.pair = null;
  }

  private requireSignedIn(): TokenPair {
    if (this.pair === null) {
      throw new Error("Not signed in: call signIn() first.");
    }
    return this.pair;
  }
}
