export * from "./apps";
export * from "./api-keys";
