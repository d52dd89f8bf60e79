import { unknownEndpoint } from "@/lib/http/route";

export const dynamic = "force-dynamic";

// Unknown API paths answer in the error envelope, not with the HTML 404 page.
export {
  unknownEndpoint as DELETE,
  unknownEndpoint as GET,
  unknownEndpoint as OPTIONS,
  unknownEndpoint as PATCH,
  unknownEndpoint as POST,
  unknownEndpoint as PUT,
};
