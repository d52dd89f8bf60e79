import http from "node:http";

/** The status an instance's URL answers through the proxy (0: no answer), on a fresh connection. */
export function statusThroughProxy(url: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const request = http.get(
      { host: "127.0.0.1", port, path: "/", headers: { Host: `${hostname}:${port}` }, timeout: 5000, agent: false },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(0));
  });
}
