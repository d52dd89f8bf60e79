import { unknownEndpoint } from "@/lib/http/route";

export const dynamic = "force-dynamic";

// `/api` itself (also what `/api/v1/..` normalises to) answers in the envelope too.
export {
  unknownEndpoint as DELETE,
  unknownEndpoint as GET,
  unknownEndpoint as OPTIONS,
  unknownEndpoint as PATCH,
  unknownEndpoint as POST,
  unknownEndpoint as PUT,
};
