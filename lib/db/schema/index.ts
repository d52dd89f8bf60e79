export * from "./apps";
export * from "./api-keys";
export * from "./settings";
