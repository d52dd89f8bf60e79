// A Node client as an operator's would be, run in a process of its own so that NODE_EXTRA_CA_CERTS
// (read at startup) decides what it trusts (tests/tls.test.ts). Every name resolves to loopback.
// Usage: node --import tsx https-client.ts METHOD URL [JSON-HEADERS] [BODY]; prints one JSON line:
// {status, headers, body, issuer} or {error, code}.

import https from "node:https";
import type { LookupFunction } from "node:net";
import type { TLSSocket } from "node:tls";

const [method, url, headers = "{}", body] = process.argv.slice(2);
const request = https.request(
  url,
  {
    method,
    headers: JSON.parse(headers),
    lookup: ((_host, options, callback) =>
      options.all ? callback(null, [{ address: "127.0.0.1", family: 4 }]) : callback(null, "127.0.0.1", 4)) as LookupFunction,
    timeout: 10_000,
  },
  (response) => {
    const chunks: Buffer[] = [];
    // Read while the socket is there: at the end it may be handed back already.
    const issuer = (response.socket as TLSSocket).getPeerCertificate().issuer?.CN ?? null;
    response.on("data", (chunk) => chunks.push(chunk));
    response.on("end", () => {
      console.log(
        JSON.stringify({
          status: response.statusCode,
          headers: response.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          issuer,
        }),
      );
    });
  },
);
request.on("timeout", () => request.destroy(new Error("timed out")));
request.on("error", (error: NodeJS.ErrnoException) =>
  console.log(JSON.stringify({ error: error.message, code: error.code ?? null })),
);
request.end(body);
