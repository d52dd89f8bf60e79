/**
 * A certificate authority of a test's own and a certificate it signs for `<domain>` and
 * `*.<domain>`, made with openssl (what an operator's CA or ACME client would hand over as
 * PROXY_TLS_CERT and PROXY_TLS_KEY; docs/production.md).
 */
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export interface TestCertificates {
  /** The CA's certificate (PEM): what clients are told to trust. */
  ca: string;
  /** The site's certificate (PEM) and key. */
  certificate: string;
  key: string;
  /** base64 SHA-256 of the site's public key, for Chromium's --ignore-certificate-errors-spki-list. */
  spki: string;
}

const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });

export function makeCertificates(dir: string, domain: string, name = "site"): TestCertificates {
  const at = (file: string) => resolve(join(dir, file));
  mkdirSync(dir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  // One CA per folder: a second call signs another certificate (a renewal) with the same CA.
  if (!existsSync(at("ca.pem")))
    openssl([
      "req",
      "-x509",
      ...ec,
      "-keyout",
      at("ca.key"),
      "-out",
      at("ca.pem"),
      "-days",
      "2",
      "-subj",
      "/CN=Try It Now test CA",
    ]);
  openssl(["req", ...ec, "-keyout", at(`${name}.key`), "-out", at(`${name}.csr`), "-subj", `/CN=${domain}`]);
  writeFileSync(
    at(`${name}.ext`),
    `subjectAltName=DNS:${domain},DNS:*.${domain}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  openssl([
    "x509",
    "-req",
    "-in",
    at(`${name}.csr`),
    "-CA",
    at("ca.pem"),
    "-CAkey",
    at("ca.key"),
    "-CAcreateserial",
    "-out",
    at(`${name}.pem`),
    "-days",
    "2",
    "-extfile",
    at(`${name}.ext`),
  ]);
  const publicKey = new X509Certificate(readFileSync(at(`${name}.pem`))).publicKey.export({ type: "spki", format: "der" });
  return {
    ca: at("ca.pem"),
    certificate: at(`${name}.pem`),
    key: at(`${name}.key`),
    spki: createHash("sha256").update(publicKey).digest("base64"),
  };
}
