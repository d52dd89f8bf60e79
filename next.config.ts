import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Node-only clients are loaded from node_modules at run time, once per process.
  serverExternalPackages: [
    "ioredis",
    "dockerode",
    "mysql2",
    "pino",
    "prom-client",
    "@nats-io/transport-node",
    "@nats-io/jetstream",
  ],
  poweredByHeader: false,
  reactStrictMode: true,
  typescript: { ignoreBuildErrors: false },
};

export default nextConfig;
