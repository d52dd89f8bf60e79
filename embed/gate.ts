/**
 * The proof-of-work solver the embed loads for apps that ask for one (ARCHITECTURE.md, "Drain
 * protection"): it finds the counter of an ALTCHA v2 challenge (SHA-256, deterministic mode) on the
 * page's main thread, in slices of a few milliseconds, so the page stays responsive and no worker
 * (which a host page's CSP may forbid) is needed. Pure JavaScript hashing: no secure context needed.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";

interface Challenge {
  parameters: { algorithm: string; nonce: string; salt: string; cost: number; keyLength: number; keyPrefix: string };
  signature: string;
}

/** How long one slice hashes before giving the page its thread back. */
const SLICE_MS = 8;
const LAST_COUNTER = 0xffffffff;

/** Yields to the page: MessageChannel is not throttled like setTimeout in a background tab. */
function yieldToPage(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i += 1) if (key[i] !== prefix[i]) return false;
  return true;
}

/** The answer as the acquire takes it: base64 of `{challenge, solution}` (ALTCHA's payload). */
async function solve(challenge: Challenge): Promise<string> {
  const { algorithm, nonce, salt, cost, keyLength, keyPrefix } = challenge.parameters;
  if (algorithm !== "SHA-256") throw new Error(`unsupported algorithm ${algorithm}`);
  const saltBytes = hexToBytes(salt);
  const nonceBytes = hexToBytes(nonce);
  const prefix = hexToBytes(keyPrefix);
  // salt ‖ nonce ‖ counter (uint32, big-endian), as altcha-lib derives it.
  const input = new Uint8Array(saltBytes.length + nonceBytes.length + 4);
  input.set(saltBytes, 0);
  input.set(nonceBytes, saltBytes.length);
  const view = new DataView(input.buffer);
  const at = saltBytes.length + nonceBytes.length;
  for (let counter = 0; counter <= LAST_COUNTER; ) {
    const end = performance.now() + SLICE_MS;
    do {
      for (let i = 0; i < 256 && counter <= LAST_COUNTER; i += 1, counter += 1) {
        view.setUint32(at, counter, false);
        let digest: Uint8Array = sha256(input);
        for (let round = 1; round < cost; round += 1) digest = sha256(digest);
        const key = digest.subarray(0, keyLength);
        if (startsWith(key, prefix)) {
          return btoa(JSON.stringify({ challenge, solution: { counter, derivedKey: bytesToHex(key) } }));
        }
      }
    } while (performance.now() < end && counter <= LAST_COUNTER);
    await yieldToPage();
  }
  throw new Error("no solution");
}

window.TryItNowGate = { solve: (challenge) => solve(challenge as Challenge) };

declare global {
  interface Window {
    TryItNowGate?: { solve(challenge: unknown): Promise<string> };
  }
}
