import type { MySqlDatabase } from "drizzle-orm/mysql-core";
import { drizzle, type MySql2Database, type MySql2PreparedQueryHKT, type MySql2QueryResultHKT } from "drizzle-orm/mysql2";
import mysql from "mysql2/promise";
import * as schema from "./schema";

export type Db = MySql2Database<typeof schema>;
/** The database or a transaction on it: what query functions take, so they run inside either. */
export type Queryable = MySqlDatabase<MySql2QueryResultHKT, MySql2PreparedQueryHKT, typeof schema>;

export function createDb(url: string): { db: Db; pool: mysql.Pool } {
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: 5,
    connectTimeout: 3000,
    enableKeepAlive: true,
    timezone: "Z",
  });
  // Dates travel as UTC (timezone "Z"); the session reads and writes TIMESTAMPs in UTC too, whatever
  // the server's zone, so hourly rollups are UTC hours (ARCHITECTURE.md, "Funnel analytics").
  pool.on("connection", (connection) => {
    (connection as unknown as { query(sql: string): void }).query("SET time_zone = '+00:00'");
  });
  return { db: drizzle({ client: pool, schema, mode: "default" }), pool };
}
