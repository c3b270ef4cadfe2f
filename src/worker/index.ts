// Worker entry: the HTTP app and the Durable Object classes.
import { createApp } from "./app.js";
import type { Env } from "./env.js";

export { AuthThrottle } from "./durable/auth-throttle.js";
export { InstanceCoordinator } from "./durable/instance-coordinator.js";
export { ProjectCoordinator } from "./durable/project-coordinator.js";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
