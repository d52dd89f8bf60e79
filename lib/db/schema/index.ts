export * from "./abuse";
export * from "./admin-users";
export * from "./api-keys";
export * from "./apps";
export * from "./audit-log";
export * from "./events";
export * from "./settings";
