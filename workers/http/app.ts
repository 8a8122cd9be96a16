import { createRouter } from "./context";
import { notFound, onError } from "./error-handler";
import { requestContext } from "./middleware/request-context";
import { adminProvider } from "./routes/admin-provider";
import { adminSync } from "./routes/admin-sync";
import { courierLive } from "./routes/courier-live";
import { courierTracks } from "./routes/courier-tracks";
import { couriers } from "./routes/couriers";
import { docs } from "./routes/docs";
import { health } from "./routes/health";
import { ingestionJobs } from "./routes/ingestion-jobs";
import { keys } from "./routes/keys";
import { legacy } from "./routes/legacy";
import { profilesNearby } from "./routes/nearby";
import { notifications } from "./routes/notifications";
import { positions } from "./routes/positions";
import { profiles } from "./routes/profiles";
import { scans } from "./routes/scans";
import { search } from "./routes/search";
import { sellers } from "./routes/sellers";
import { tripStats } from "./routes/trip-stats";
import { trips } from "./routes/trips";

const info = { title: "geoedge", version: "0.1.0" };

/** Builds the HTTP app; production and tests use the same one. */
export function createApp() {
  const app = createRouter();
  app.use("*", requestContext);
  app.route("/health", health);
  app.route("/v1/whoami", keys);
  app.route("/v1/positions", positions);
  // Fixed paths first: they must win over the courier id route.
  app.route("/v1/couriers", courierLive);
  app.route("/v1/couriers", couriers);
  app.route("/v1/couriers", courierTracks);
  // Nearby first: its fixed path must win over the profile id route.
  app.route("/v1/profiles", profilesNearby);
  app.route("/v1/profiles", profiles);
  app.route("/v1/scans", scans);
  app.route("/v1/sellers", sellers);
  app.route("/v1/notifications", notifications);
  app.route("/v1/trips", tripStats);
  app.route("/v1/trips", trips);
  app.route("/v1/ingestion/jobs", ingestionJobs);
  app.route("/v1/admin/sync/profiles", adminSync);
  app.route("/v1/admin/provider", adminProvider);
  app.route("/search", search);
  app.route("/", legacy);
  app.get("/ping", (c) => c.json({ pong: true }));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API key with the scope the operation needs (ingest, read or admin).",
  });
  const document = () => app.getOpenAPI31Document({ openapi: "3.1.0", info });
  app.get("/openapi.json", (c) => c.json(document()));
  app.route("/docs", docs);

  app.notFound(notFound);
  app.onError(onError);
  return app;
}
