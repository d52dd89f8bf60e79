import { spawn } from "node:child_process";

/** A call to the kernel's netfilter that takes longer than this is killed and fails. */
const NFT_TIMEOUT_MS = 10_000;

/** Runs `nft` (Debian's nftables) with a script on stdin or arguments; its stdout, or an error naming what it said. */
export function nft(args: string[], script?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("nft", args, {
      stdio: [script === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      timeout: NFT_TIMEOUT_MS,
      killSignal: "SIGKILL",
    });
    let out = "";
    let err = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString("utf8");
    });
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === "ENOENT" ? "nft not found: install Debian's nftables package" : `nft: ${error.message}`)),
    );
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new NftError(code, err.trim() || `nft exited with ${code}`)),
    );
    if (child.stdin) {
      // nft that fails early closes its stdin: the exit code says why, not the broken pipe.
      child.stdin.on("error", () => undefined);
      child.stdin.end(script);
    }
  });
}

export class NftError extends Error {
  constructor(
    readonly exitCode: number | null,
    message: string,
  ) {
    super(`nft: ${message}`);
  }
}

interface ListedTable {
  /** The comments of the table and its maps (nft 1.0.6 lists only the maps'). */
  comments: string[];
  /** Map name → address → the chain its verdict jumps to. */
  maps: Map<string, Map<string, string>>;
}

/** The table as the kernel holds it (`nft -j list table`), or null when it does not exist. */
export async function listTable(table: string): Promise<ListedTable | null> {
  let text: string;
  try {
    text = await nft(["-j", "list", "table", "inet", table]);
  } catch (error) {
    if (error instanceof NftError && /No such file or directory/.test(error.message)) return null;
    throw error;
  }
  const parsed = JSON.parse(text) as { nftables: Record<string, any>[] };
  const listed: ListedTable = { comments: [], maps: new Map() };
  for (const entry of parsed.nftables) {
    if (entry.table?.comment) listed.comments.push(entry.table.comment);
    if (entry.map) {
      if (entry.map.comment) listed.comments.push(entry.map.comment);
      const elements = new Map<string, string>();
      for (const [key, verdict] of (entry.map.elem ?? []) as [string, { jump?: { target: string } }][]) {
        if (typeof key === "string" && verdict?.jump?.target) elements.set(key, verdict.jump.target);
      }
      listed.maps.set(entry.map.name, elements);
    }
  }
  return listed;
}
