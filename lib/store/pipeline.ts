import type { ChainableCommander } from "ioredis";

/** Runs a pipeline and returns its replies in order; the first failed command fails the whole read. */
export async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** Readers for pipeline replies: the command decides the type, these make the compiler agree. */
export const as = {
  count: (value: unknown): number => (typeof value === "number" ? value : Number(value ?? 0)),
  fields: (value: unknown): (string | null)[] => (Array.isArray(value) ? (value as (string | null)[]) : []),
  members: (value: unknown): string[] => (Array.isArray(value) ? (value as string[]) : []),
};
