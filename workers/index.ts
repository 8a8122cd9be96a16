import { handleScheduled } from "./cron/index";
import { createApp } from "./http/app";
import { handleQueue } from "./queues/index";

export { CourierTrack } from "../durable-objects/courier-track";
export { IngestionJob } from "../durable-objects/ingestion-job";
export { SellerDebouncer } from "../durable-objects/seller-debouncer";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  queue: (batch, env, _ctx) => handleQueue(batch, env),
  scheduled: async (controller, env, _ctx) => {
    await handleScheduled(controller, env);
  },
} satisfies ExportedHandler<Env>;
