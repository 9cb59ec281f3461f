/** The SMTP_* settings: defaults, secrets, and a ConfigError for each bad value. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { ConfigError, describeConfig, loadConfig } from "../../src/config.ts";
import { smtpTransportOptions } from "../../src/mail/transport.ts";

let dir: string;
let caFile: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "islet-mail-config-"));
  caFile = join(dir, "ca.pem");
  // A real certificate, so that the file passes the PEM check.
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", join(dir, "key.pem"), "-out", caFile, "-days", "1", "-subj", "/CN=test CA",
  ], { stdio: "pipe" });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function load(env: Record<string, string>) {
  return loadConfig({ DATA_DIR: join(dir, "data"), ...env });
}

function assertConfigError(env: Record<string, string>, variable: string, pattern: RegExp) {
  assert.throws(() => load(env), (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.variable, variable, error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

describe("SMTP settings", () => {
  test("unset SMTP_SERVER: mail disabled, with the defaults", () => {
    const { smtp } = load({ LOCAL_DOMAIN: "islet.example" });
    assert.equal(smtp.server, null);
    assert.equal(smtp.port, 587);
    assert.equal(smtp.tls, false);
    assert.equal(smtp.enableStarttls, "auto");
    assert.equal(smtp.authMethod, "plain");
    assert.equal(smtp.verifyPeer, true);
    assert.equal(smtp.fromAddress, "notifications@islet.example");
    assert.equal(smtp.login, null);
    assert.equal(smtp.password, null);
  });

  test("a development instance sends as notifications@localhost (no port in the address)", () => {
    assert.equal(load({ PORT: "4000" }).smtp.fromAddress, "notifications@localhost");
  });

  test("SMTP_TLS=true moves the default port to 465; SMTP_PORT wins", () => {
    assert.equal(load({ SMTP_SERVER: "smtp.example.com", SMTP_TLS: "true" }).smtp.port, 465);
    assert.equal(load({ SMTP_SERVER: "smtp.example.com", SMTP_TLS: "true", SMTP_PORT: "2465" }).smtp.port, 2465);
    assert.equal(load({ SMTP_SERVER: "smtp.example.com", SMTP_PORT: "25" }).smtp.port, 25);
  });

  test("the transport follows the settings", () => {
    const config = load({
      LOCAL_DOMAIN: "islet.example",
      SMTP_SERVER: "SMTP.Example.com",
      SMTP_LOGIN: "me",
      SMTP_PASSWORD: "pw",
      SMTP_AUTH_METHOD: "cram_md5",
      SMTP_ENABLE_STARTTLS: "never",
      SMTP_CA_FILE: caFile,
      SMTP_OPENSSL_VERIFY_MODE: "none",
    });
    const options = smtpTransportOptions(config);
    assert.equal(options.host, "smtp.example.com");
    assert.equal(options.port, 587);
    assert.equal(options.secure, false);
    assert.equal(options.ignoreTLS, true);
    assert.equal(options.requireTLS, undefined);
    assert.equal(options.name, "islet.example");
    assert.deepEqual(options.auth, { user: "me", pass: "pw", method: "CRAM-MD5" });
    assert.equal(options.tls?.rejectUnauthorized, false);
    const ca = options.tls?.ca as string[];
    assert.ok(Array.isArray(ca) && ca.length > 1, "the default roots are kept beside the extra CA");
    assert.match(ca.at(-1)!, /BEGIN CERTIFICATE/);
    assert.equal(smtpTransportOptions(load({ SMTP_SERVER: "smtp.example.com" })).auth, undefined, "no login without SMTP_LOGIN");
    assert.equal(smtpTransportOptions(load({ SMTP_SERVER: "smtp.example.com" })).tls?.ca, undefined);
  });

  test("SMTP_PASSWORD from SMTP_PASSWORD_FILE or the credentials directory, masked in `islet config`", () => {
    const file = join(dir, "smtp-password");
    writeFileSync(file, "from-a-file-secret\n");
    const fromFile = load({ SMTP_SERVER: "smtp.example.com", SMTP_LOGIN: "me", SMTP_PASSWORD_FILE: file });
    assert.equal(fromFile.smtp.password, "from-a-file-secret");
    const text = describeConfig(fromFile).join("\n");
    assert.ok(!text.includes("from-a-file-secret"), text);
    assert.match(text, /^SMTP_PASSWORD=\*\*\*\* \(from SMTP_PASSWORD_FILE\)$/m);
    assert.match(text, /^SMTP_SERVER=smtp\.example\.com$/m);
    assert.match(text, /^SMTP_LOGIN=me$/m);

    const credentials = join(dir, "credentials");
    mkdirSync(credentials, { recursive: true });
    writeFileSync(join(credentials, "SMTP_PASSWORD"), "credential-secret\n");
    const fromCredentials = load({ SMTP_SERVER: "smtp.example.com", SMTP_LOGIN: "me", CREDENTIALS_DIRECTORY: credentials });
    assert.equal(fromCredentials.smtp.password, "credential-secret");
    assert.match(describeConfig(fromCredentials).join("\n"), /SMTP_PASSWORD=\*\*\*\* \(from \$CREDENTIALS_DIRECTORY\/SMTP_PASSWORD\)/);
    assert.match(describeConfig(load({})).join("\n"), /^SMTP_SERVER=\(unset: mail disabled\)$/m);
  });

  test("SMTP_FROM_ADDRESS takes an address or Name <address>", () => {
    assert.equal(load({ SMTP_FROM_ADDRESS: "Islet <islet@example.com>" }).smtp.fromAddress, "Islet <islet@example.com>");
    assert.equal(load({ SMTP_FROM_ADDRESS: "islet@example.com" }).smtp.fromAddress, "islet@example.com");
  });

  test("each bad value is a ConfigError naming its variable", () => {
    assertConfigError({ SMTP_SERVER: "smtp://smtp.example.com" }, "SMTP_SERVER", /not a URL/);
    assertConfigError({ SMTP_SERVER: "smtp.example.com:587" }, "SMTP_SERVER", /without a port \(set SMTP_PORT/);
    assertConfigError({ SMTP_SERVER: "smtp example" }, "SMTP_SERVER", /host name or IP address/);
    assertConfigError({ SMTP_PORT: "submission" }, "SMTP_PORT", /whole number/);
    assertConfigError({ SMTP_PORT: "0" }, "SMTP_PORT", /from 1 to 65535/);
    assertConfigError({ SMTP_PORT: "70000" }, "SMTP_PORT", /from 1 to 65535/);
    assertConfigError({ SMTP_TLS: "sometimes" }, "SMTP_TLS", /true or false/);
    assertConfigError({ SMTP_ENABLE_STARTTLS: "yes" }, "SMTP_ENABLE_STARTTLS", /expected auto, always or never, got "yes"/);
    assertConfigError({ SMTP_AUTH_METHOD: "xoauth2" }, "SMTP_AUTH_METHOD", /expected plain, login, cram_md5 or none/);
    assertConfigError({ SMTP_OPENSSL_VERIFY_MODE: "strict" }, "SMTP_OPENSSL_VERIFY_MODE", /expected none or peer/);
    assertConfigError({ SMTP_FROM_ADDRESS: "not an address" }, "SMTP_FROM_ADDRESS", /expected an address/);
    assertConfigError({ SMTP_FROM_ADDRESS: "Islet <islet@example.com" }, "SMTP_FROM_ADDRESS", /expected an address/);
    assertConfigError({ SMTP_FROM_ADDRESS: "a@example.com\r\nBcc: x@example.com" }, "SMTP_FROM_ADDRESS", /expected an address/);
    assertConfigError({ SMTP_CA_FILE: join(dir, "missing.pem") }, "SMTP_CA_FILE", /cannot read .*missing\.pem \(no such file\)/);
    const notPem = join(dir, "not.pem");
    writeFileSync(notPem, "hello\n");
    assertConfigError({ SMTP_CA_FILE: notPem }, "SMTP_CA_FILE", /holds no PEM certificate/);
    const broken = join(dir, "broken.pem");
    writeFileSync(broken, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assertConfigError({ SMTP_CA_FILE: broken }, "SMTP_CA_FILE", /cannot be read/);
    assertConfigError({ SMTP_PASSWORD_FILE: join(dir, "no-such-password") }, "SMTP_PASSWORD_FILE", /cannot read/);
  });

  test("a login without a password, or the reverse, is refused", () => {
    assertConfigError({ SMTP_SERVER: "smtp.example.com", SMTP_LOGIN: "me" }, "SMTP_PASSWORD", /is not set but SMTP_LOGIN is/);
    assertConfigError({ SMTP_SERVER: "smtp.example.com", SMTP_PASSWORD: "pw" }, "SMTP_LOGIN", /is not set but SMTP_PASSWORD is/);
    assertConfigError({ SMTP_SERVER: "smtp.example.com", SMTP_AUTH_METHOD: "login" }, "SMTP_LOGIN", /SMTP_AUTH_METHOD=login asks for a login/);
    // With none, the login settings are not needed.
    assert.equal(load({ SMTP_SERVER: "smtp.example.com", SMTP_AUTH_METHOD: "none" }).smtp.authMethod, "none");
  });

  test("SMTP_TLS=true with SMTP_ENABLE_STARTTLS=always is contradictory", () => {
    assertConfigError({ SMTP_TLS: "true", SMTP_ENABLE_STARTTLS: "always" }, "SMTP_ENABLE_STARTTLS", /contradicts SMTP_TLS=true/);
    assert.equal(load({ SMTP_TLS: "true", SMTP_ENABLE_STARTTLS: "never" }).smtp.tls, true);
  });
});
