/** Prints the resolved addresses of the configuration as shell variables, for the set-up scripts. */
import { loadConfig } from "../lib/config";
import { namePrefix } from "../lib/demo-db/server";
import { tableName } from "../lib/egress/policy";
import { splitAddr } from "../lib/store/redis";

const config = loadConfig();
const db = new URL(config.DATABASE_URL);
const nats = new URL(config.NATS_URL);
const caddy = new URL(config.CADDY_ADMIN_URL);
const [redisHost, redisPort] = splitAddr(config.VALKEY_ADDR);
const vars: Record<string, string | number> = {
  TIN_PORT: config.PORT,
  TIN_HOST: config.HOST,
  TIN_PROXY_PORT: config.PROXY_PORT,
  TIN_WEB_PROCESSES: config.WEB_PROCESSES,
  TIN_WORKER_PROCESSES: config.WORKER_PROCESSES,
  TIN_PUBLIC_URL: config.PUBLIC_URL,
  TIN_REDIS_HOST: redisHost,
  TIN_REDIS_PORT: redisPort,
  TIN_REDIS_PASSWORD: config.VALKEY_PASSWORD,
  TIN_DB_HOST: db.hostname,
  TIN_DB_PORT: db.port || 3306,
  TIN_DB_USER: decodeURIComponent(db.username),
  TIN_DB_PASSWORD: decodeURIComponent(db.password),
  TIN_DB_NAME: db.pathname.slice(1),
  TIN_NATS_HOST: nats.hostname,
  TIN_NATS_PORT: nats.port || 4222,
  TIN_CADDY_ADMIN: `${caddy.hostname}:${caddy.port || 2019}`,
  TIN_CADDY_ADMIN_URL: config.CADDY_ADMIN_URL,
  TIN_PROXY_MEMORY_LIMIT: config.PROXY_MEMORY_LIMIT,
  TIN_IMAGE: config.CONTAINER_IMAGE,
  TIN_PREFIX: config.VALKEY_PREFIX,
  TIN_EGRESS_TABLE: tableName(config.CONTAINER_NETWORK),
  TIN_DEMO_DB_URL: config.DEMO_DB_URL,
  TIN_DEMO_DB_SOCKET: config.DEMO_DB_SOCKET,
  TIN_DEMO_DB_HOST: config.DEMO_DB_HOST,
  TIN_DEMO_DB_PORT: config.DEMO_DB_PORT,
  TIN_DEMO_DB_PREFIX: namePrefix(config.VALKEY_PREFIX),
  TIN_SEEDS_DIR: config.SEEDS_DIR,
};
const quote = (value: string | number) => `'${String(value).replace(/'/g, `'\\''`)}'`;
for (const [name, value] of Object.entries(vars)) console.log(`${name}=${quote(value)}`);
