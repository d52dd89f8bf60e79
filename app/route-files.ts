import type { RouteFile } from "@/lib/http/dispatch";
import * as unknownApi from "./api/[...path]/route";
import * as abuseTrail from "./api/v1/abuse/trail/route";
import * as analyticsFunnel from "./api/v1/analytics/funnel/route";
import * as appsSlug from "./api/v1/apps/[slug]/route";
import * as appsSlugSeed from "./api/v1/apps/[slug]/seed/route";
import * as apps from "./api/v1/apps/route";
import * as blocksId from "./api/v1/blocks/[id]/route";
import * as blocks from "./api/v1/blocks/route";
import * as demoIdConvert from "./api/v1/demo/[id]/convert/route";
import * as demoIdExtend from "./api/v1/demo/[id]/extend/route";
import * as demoId from "./api/v1/demo/[id]/route";
import * as demoIdStatus from "./api/v1/demo/[id]/status/route";
import * as demoAcquire from "./api/v1/demo/acquire/route";
import * as demoChallenge from "./api/v1/demo/challenge/route";
import * as events from "./api/v1/events/route";
import * as jobsDeadIdRetry from "./api/v1/jobs/dead/[id]/retry/route";
import * as jobsDead from "./api/v1/jobs/dead/route";
import * as keysId from "./api/v1/keys/[id]/route";
import * as keys from "./api/v1/keys/route";
import * as poolStats from "./api/v1/pool/stats/route";
import * as embedFile from "./embed/[file]/route";
import * as embedJs from "./embed.js/route";
import * as embedGateJs from "./embed-gate.js/route";
import * as health from "./health/route";
import * as metrics from "./metrics/route";

/**
 * The route files the web's fast path serves (server.ts, ARCHITECTURE.md "HTTP API"): the whole
 * public API, /health, /metrics and the widget's scripts. The same files Next.js serves under
 * `next dev` and `next start`; `lib/http/dispatch.test.ts` fails when a route file under those
 * paths is missing here or listed under another path.
 */
export const ROUTE_FILES: RouteFile[] = [
  { path: "/api/v1/abuse/trail", module: abuseTrail },
  { path: "/api/v1/analytics/funnel", module: analyticsFunnel },
  { path: "/api/v1/apps/:slug", module: appsSlug },
  // Streams its body: listed so the catch-all leaves it alone, and left to Next.js (lib/http/dispatch.ts).
  { path: "/api/v1/apps/:slug/seed", module: appsSlugSeed },
  { path: "/api/v1/apps", module: apps },
  { path: "/api/v1/blocks/:id", module: blocksId },
  { path: "/api/v1/blocks", module: blocks },
  { path: "/api/v1/demo/:id/convert", module: demoIdConvert },
  { path: "/api/v1/demo/:id/extend", module: demoIdExtend },
  { path: "/api/v1/demo/:id", module: demoId },
  { path: "/api/v1/demo/:id/status", module: demoIdStatus },
  { path: "/api/v1/demo/acquire", module: demoAcquire },
  { path: "/api/v1/demo/challenge", module: demoChallenge },
  { path: "/api/v1/events", module: events },
  { path: "/api/v1/jobs/dead/:id/retry", module: jobsDeadIdRetry },
  { path: "/api/v1/jobs/dead", module: jobsDead },
  { path: "/api/v1/keys/:id", module: keysId },
  { path: "/api/v1/keys", module: keys },
  { path: "/api/v1/pool/stats", module: poolStats },
  { path: "/embed-gate.js", module: embedGateJs },
  { path: "/embed.js", module: embedJs },
  { path: "/embed/:file", module: embedFile },
  { path: "/health", module: health },
  { path: "/metrics", module: metrics },
];

/** Clean paths under /api/v1/ that no route file serves: the error envelope's 404, as Next.js answers. */
export const UNKNOWN_API = { prefix: "/api/v1/", module: unknownApi };
