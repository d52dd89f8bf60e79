import { defineConfig } from "drizzle-kit";
import { loadConfig } from "./lib/config";

// The same DATABASE_URL (environment over .env over the default) as web, worker and migrate.
export default defineConfig({
  dialect: "mysql",
  schema: "./lib/db/schema/index.ts",
  out: "./drizzle",
  dbCredentials: { url: loadConfig().DATABASE_URL },
});
