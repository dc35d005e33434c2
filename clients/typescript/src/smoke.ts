/**
 * The client against a live server, as a front end would use it: sign in, list services, fetch
 * availability, book, reschedule, refresh the tokens, cancel, sign out. Prints what happened as
 * JSON; any refusal throws (exit code 1). config/tests/test_typescript_client.py runs it.
 *
 *   SMOOTH_BASE_URL=http://demo.localhost:8000 SMOOTH_EMAIL=owner@demo.localhost \
 *   SMOOTH_PASSWORD=demo-password-2026 SMOOTH_SERVICE=Haircut SMOOTH_DAY=2026-05-04 npm run smoke
 */
import { ApiError, createTenantClient, fetchConnectingTo, ok, TokenSession } from "./index.js";

function setting(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`Set ${name}.`);
  }
  return value;
}

const connectTo = process.env.SMOOTH_CONNECT_TO;
const api = createTenantClient(
  setting("SMOOTH_BASE_URL"),
  connectTo ? { fetch: fetchConnectingTo(connectTo) } : {},
);
const session = new TokenSession(api);
await session.signIn(setting("SMOOTH_EMAIL"), setting("SMOOTH_PASSWORD"));

const me = ok(await api.GET("/api/me/"));
const services = ok(await api.GET("/api/services/", { params: { query: { page_size: 200 } } }));
const service = services.results.find((candidate) => candidate.name === setting("SMOOTH_SERVICE"));
if (service === undefined) {
  throw new Error(`No service named ${setting("SMOOTH_SERVICE")}.`);
}
const customer = ok(await api.GET("/api/customers/")).results[0];
if (customer === undefined) {
  throw new Error("This business has no customer to book for.");
}

const day = setting("SMOOTH_DAY");
const answer = ok(
  await api.GET("/api/availability/", { params: { query: { service: service.id, start: day, end: day } } }),
);
if (!("slots" in answer)) {
  throw new Error("The default shape of availability must list slots.");
}
const availability = answer;
const [first, later] = [availability.slots[0], availability.slots.at(-1)];
// The compact shape: the same starts as runs per resource set, each resource described once.
const compact = ok(
  await api.GET("/api/availability/", {
    params: { query: { service: service.id, start: day, end: day, shape: "compact" } },
  }),
);
if (!("groups" in compact)) {
  throw new Error("shape=compact must answer groups.");
}
const compactStarts = compact.groups.reduce(
  (sum, group) => sum + group.runs.reduce((n, run) => n + run.count, 0),
  0,
);
if (compactStarts !== availability.slots.length) {
  throw new Error(`The compact shape holds ${compactStarts} starts, the slots shape ${availability.slots.length}.`);
}
if (first === undefined || later === undefined || first.starts_at === later.starts_at) {
  throw new Error(`Too few free slots on ${day}.`);
}

const booked = ok(
  await api.POST("/api/appointments/", {
    body: { service: service.id, customer: customer.id, starts_at: first.starts_at },
    headers: { "Idempotency-Key": `smoke-${Date.now()}` },
  }),
);
const moved = ok(
  await api.POST("/api/appointments/{id}/reschedule/", {
    params: { path: { id: booked.id } },
    body: { starts_at: later.starts_at },
  }),
);

const spent = session.refreshToken;
await session.refresh();
const replayed = await api.POST("/api/auth/token/refresh/", { body: { refresh: spent ?? "" } });

const cancelled = ok(await api.POST("/api/appointments/{id}/cancel/", { params: { path: { id: booked.id } } }));
await session.signOut();

let afterSignOut = 0;
try {
  await session.signIn(setting("SMOOTH_EMAIL"), "a wrong password");
} catch (refused) {
  afterSignOut = refused instanceof ApiError ? refused.status : -1;
}

console.log(
  JSON.stringify({
    me: me.email,
    service: service.id,
    slots: availability.slots.length,
    appointment: booked.id,
    booked_at: booked.starts_at,
    rescheduled_to: moved.starts_at,
    status: cancelled.status,
    spent_refresh_status: replayed.response.status,
    wrong_password_status: afterSignOut,
  }),
);
