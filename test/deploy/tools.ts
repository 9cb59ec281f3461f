/**
 * What the deployment tests share: the repository root, finding the tools
 * that check the shipped files (skipping with the reason when one is
 * missing), filling placeholders in, and a self-signed certificate.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { accessSync, chmodSync, constants, statSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { requiredUnderCi } from "../helpers/skip.ts";

export const ROOT = resolve(import.meta.dirname, "..", "..");

/** The path of a command on PATH (or in the sbin folders), else null. */
export function which(command: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    if (dir === "") continue;
    const path = join(dir, command);
    try {
      accessSync(path, constants.X_OK);
      if (statSync(path).isFile()) return path;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * A skip reason when a command is missing, else false. The skip is printed
 * as a `SKIPPED:` line; under CI (CI set), where scripts/ci-deps.sh installs
 * the checkers, a missing one throws instead, failing the file.
 */
export function skipUnless(...commands: string[]): string | false {
  const missing = commands.filter((c) => which(c) == null);
  return missing.length === 0 ? false : requiredUnderCi(`${missing.join(", ")} not found (scripts/ci-deps.sh installs the deployment checkers in CI)`);
}

/** Replaces every occurrence, failing when there is none (the shipped file changed). */
export function replaceAll(text: string, search: string | RegExp, replacement: string, what: string): string {
  const pattern = typeof search === "string" ? new RegExp(search.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "g") : search;
  assert.match(text, pattern, `expected ${what} in the shipped file`);
  pattern.lastIndex = 0;
  return text.replace(pattern, replacement);
}

/** A self-signed certificate for `names` (the first is the subject), made with openssl in `dir`. */
export function selfSignedCertificate(dir: string, names: string[]): { cert: string; key: string } {
  chmodSync(dir, 0o755);
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const result = spawnSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", `/CN=${names[0]}`, "-addext", `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`,
    "-keyout", key, "-out", cert,
  ], { encoding: "utf8" });
  assert.equal(result.status, 0, `openssl could not make a certificate: ${result.stderr}`);
  return { cert, key };
}
