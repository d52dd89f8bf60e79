// `/api` itself (also what `/api/v1/..` normalises to) answers in the envelope, like unknown API paths.
export { DELETE, GET, OPTIONS, PATCH, POST, PUT } from "./[...path]/route";

export const dynamic = "force-dynamic";
