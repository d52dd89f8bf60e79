import { startStack } from "./stack";

export default async function setup() {
  const stop = await startStack();
  return stop;
}
