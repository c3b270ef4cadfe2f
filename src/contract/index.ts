// The contract between the Qalá server and its clients.
export * from "./errors.js";
export * from "./limits.js";
export * from "./schemas.js";
export * from "./permissions.js";
export * from "./identity.js";
