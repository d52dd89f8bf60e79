/** Applies the committed migrations of drizzle/ to DATABASE_URL (creating nothing else). */
import { migrate } from "drizzle-orm/mysql2/migrator";
import { loadConfig } from "../lib/config";
import { createDb } from "../lib/db/client";

const config = loadConfig();
const { db, pool } = createDb(config.DATABASE_URL);
try {
  await migrate(db, { migrationsFolder: "drizzle" });
  console.log(`migrations applied to ${new URL(config.DATABASE_URL).pathname.slice(1)}`);
} finally {
  await pool.end();
}
