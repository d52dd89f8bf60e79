import { DENIED_PORTS, type EgressMode, parseAllowEntry } from "./policy";

/**
 * What an app's instances may reach, in words, for its page in the dashboard (the rules in
 * `policy.ts` are what enforce it).
 */
export function describeEgress(app: {
  egress: EgressMode;
  egress_allow: string[];
  api_access: boolean;
  database?: string;
}): string[] {
  const lines: string[] = [];
  const refused = `private and link-local addresses (the cloud's metadata address too), the host itself, and ports ${DENIED_PORTS.slice(0, 3).join(", ")} (mail) and the usual mining-pool ports`;
  if (app.egress === "public") {
    lines.push(`Instances may reach the public internet and look up names through the host's resolvers; never ${refused}.`);
  } else if (app.egress === "none") {
    lines.push("Instances may reach nothing outside themselves: no internet, no private network, no name lookups.");
  } else {
    const entries = app.egress_allow.map((entry) => parseAllowEntry(entry)).filter((entry) => entry !== null);
    lines.push(
      entries.length
        ? `Instances may reach only ${entries.map((entry) => `${entry.cidr} port ${entry.port}`).join(", ")}; nothing else, and never ${refused}.`
        : "Instances may reach nothing: the allow list is empty.",
    );
  }
  lines.push(
    app.api_access
      ? "They may report conversions to this product's API (TRYIT_API_URL), and nothing else of it."
      : "They cannot reach this product's API (conversions are reported from your servers with a secret key).",
  );
  if (app.database === "mariadb")
    lines.push("They reach the demo database server, where each instance's user opens its own database and nothing else.");
  return lines;
}
