// A typed client of the certification API: the types come from openapi.yaml
// (`npm run generate` writes src/schema.d.ts), the calls go through openapi-fetch,
// so a call the contract does not allow does not compile.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type Schemas = components["schemas"];

/** A client for baseUrl that sends the bearer token and, on every POST, an Idempotency-Key. */
export function apiClient(baseUrl: string, accessToken?: string) {
  const client = createClient<paths>({ baseUrl });
  const auth: Middleware = {
    onRequest({ request }) {
      if (accessToken) request.headers.set("Authorization", `Bearer ${accessToken}`);
      // A retried POST with the same key is answered once: keep the key when you retry.
      if (request.method === "POST" && !request.headers.has("Idempotency-Key")) {
        request.headers.set("Idempotency-Key", crypto.randomUUID());
      }
      return request;
    },
  };
  client.use(auth);
  return client;
}

/**
 * The OAuth2 password grant, form-encoded as RFC 6749 wants (not JSON).
 * Errors come back as RFC 6749 §5.2 JSON: {"error": "invalid_grant", ...}.
 */
export async function signIn(baseUrl: string, username: string, password: string): Promise<Schemas["TokenResponse"]> {
  const client = createClient<paths>({ baseUrl });
  const { data, error, response } = await client.POST("/v1/auth/token", {
    body: { grant_type: "password", username, password },
    bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  if (!data) throw new Error(`sign-in refused: ${response.status} ${JSON.stringify(error)}`);
  return data;
}

/** Fails with the problem+json the API answered, or returns the data. */
export function must<T>(what: string, r: { data?: T; error?: unknown; response: Response }): T {
  if (r.data === undefined || r.error !== undefined) {
    throw new Error(`${what}: ${r.response.status} ${JSON.stringify(r.error)}`);
  }
  return r.data;
}
