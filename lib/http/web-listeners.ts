import type { Config } from "../config";

/**
 * Where web processes listen and the proxy dials them (ARCHITECTURE.md, "Supervision"). One web
 * process (WEB_PROCESSES=1, or a web started on its own: WEB_INDEX=0) listens on HOST:PORT and on
 * WEB_PROXY_SOCKET, as it always did. Several: the bundled proxy serves HOST:PORT too, and each
 * process N listens on two sockets of its own beside WEB_PROXY_SOCKET — `…-N.sock` for the public
 * proxy port and `…-N-direct.sock` for HOST:PORT, where the proxy hands over the client's address.
 */
export function webSockets(config: Pick<Config, "WEB_PROXY_SOCKET">, index: number) {
  const base = config.WEB_PROXY_SOCKET.replace(/\.sock$/, "");
  return { proxy: `${base}-${index}.sock`, front: `${base}-${index}-direct.sock` };
}

export function webListeners(config: Pick<Config, "WEB_INDEX" | "WEB_PROXY_SOCKET" | "HOST" | "PORT">) {
  if (config.WEB_INDEX === 0)
    return { tcp: { host: config.HOST, port: config.PORT }, proxy: config.WEB_PROXY_SOCKET, front: null };
  return { tcp: null, ...webSockets(config, config.WEB_INDEX) };
}

/** What the proxy dials for the web: the public port's upstreams, and HOST:PORT's when the proxy serves it. */
export function webUpstreams(config: Pick<Config, "WEB_PROCESSES" | "WEB_PROXY_SOCKET" | "HOST" | "PORT">) {
  if (config.WEB_PROCESSES === 1) return { proxy: [`unix/${config.WEB_PROXY_SOCKET}`], front: null };
  const sockets = Array.from({ length: config.WEB_PROCESSES }, (_, index) => webSockets(config, index + 1));
  const host = config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST;
  return {
    proxy: sockets.map((socket) => `unix/${socket.proxy}`),
    front: { listen: `${host}:${config.PORT}`, upstreams: sockets.map((socket) => `unix/${socket.front}`) },
  };
}

/** Headers the proxy sets on HOST:PORT (overwriting a client's): the client's address and its X-Forwarded-For. */
export const FRONT_PEER_HEADER = "x-tin-front-peer";
export const FRONT_FORWARDED_HEADER = "x-tin-front-forwarded-for";
