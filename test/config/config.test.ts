/**
 * The configuration read from the environment: defaults, every refusal of a
 * bad value (naming the variable), secrets from the environment, files and
 * systemd credentials, the kept SECRET_KEY_BASE, DATA_DIR, and the masked
 * description `islet config` prints. Pure unit tests on temporary folders.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ConfigError, describeConfig, ignoredMastodonVariables, ignoredVariablesWarning, loadConfig, readSecret, type Config } from "../../src/config.ts";

const roots: string[] = [];

/** A fresh empty folder, removed after the tests. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "islet-config-test-"));
  roots.push(dir);
  return dir;
}

after(() => {
  for (const dir of roots) rmSync(dir, { recursive: true, force: true });
});

type Env = Record<string, string | undefined>;

/** Loads the configuration with `env` alone, in a fresh working folder. */
function load(env: Env = {}): { config: Config; cwd: string } {
  const cwd = tempDir();
  return { config: loadConfig(env, { cwd }), cwd };
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

/**
 * Asserts that loading `env` fails with a ConfigError for `variable` whose
 * message starts with the variable's name and matches every pattern.
 */
function assertRefused(env: Env, variable: string, ...patterns: RegExp[]): ConfigError {
  let caught: unknown;
  try {
    load(env);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught != null, `expected ${JSON.stringify(env)} to be refused`);
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.name, "ConfigError");
  assert.equal(caught.variable, variable);
  assert.ok(
    caught.message.startsWith(`${variable}: `) || caught.message.startsWith(`${variable} `),
    `the message should start with ${variable}: ${JSON.stringify(caught.message)}`,
  );
  for (const pattern of patterns) {
    assert.match(caught.message, pattern);
  }
  return caught;
}

const LONG_SECRET = "a-test-secret-key-base-that-is-long-enough-0123456789abcdef";

describe("configuration defaults", () => {
  test("with an empty environment: port 3000 on 127.0.0.1, ./data under the working folder", () => {
    const { config, cwd } = load({});
    assert.equal(config.port, 3000);
    assert.equal(config.bind, "127.0.0.1");
    assert.equal(config.dataDir, join(cwd, "data"));
    assert.ok(statSync(config.dataDir).isDirectory(), "DATA_DIR is created");
    assert.equal(config.streamingPort, null);
    assert.equal(config.databaseUrl, null);
    assert.equal(config.authorizedFetch, false);
    assert.equal(config.logLevel, "info");
    assert.deepEqual(config.trustedProxyIps, []);
  });

  test("without LOCAL_DOMAIN the instance is a development one at http://localhost:PORT", () => {
    const { config } = load({});
    assert.equal(config.development, true);
    assert.equal(config.origin, "http://localhost:3000");
    assert.equal(config.localDomain, "localhost:3000");
    assert.equal(config.webDomain, "localhost:3000");

    const { config: other } = load({ PORT: "4321" });
    assert.equal(other.origin, "http://localhost:4321");
    assert.equal(other.localDomain, "localhost:4321");
  });

  test("LOCAL_DOMAIN makes the origin https://LOCAL_DOMAIN", () => {
    const { config } = load({ LOCAL_DOMAIN: "Example.COM" });
    assert.equal(config.development, false);
    assert.equal(config.origin, "https://example.com");
    assert.equal(config.localDomain, "example.com");
    assert.equal(config.webDomain, "example.com");
  });

  test("WEB_DOMAIN changes the origin; LOCAL_DOMAIN stays the host of handles", () => {
    const { config } = load({ LOCAL_DOMAIN: "example.com", WEB_DOMAIN: "social.example.com" });
    assert.equal(config.origin, "https://social.example.com");
    assert.equal(config.webDomain, "social.example.com");
    assert.equal(config.localDomain, "example.com");
    assert.equal(config.development, false);
  });

  test("a relative DATA_DIR is resolved against the working folder; an absolute one is kept", () => {
    const { config, cwd } = load({ DATA_DIR: "state/islet" });
    assert.equal(config.dataDir, join(cwd, "state", "islet"));
    const absolute = join(tempDir(), "elsewhere");
    const { config: other } = load({ DATA_DIR: absolute });
    assert.equal(other.dataDir, absolute);
  });
});

describe("bad values are refused with a ConfigError naming the variable", () => {
  test("PORT that is not a number", () => {
    assertRefused({ PORT: "abc" }, "PORT", /whole number/, /"abc"/);
  });

  test("PORT out of range", () => {
    assertRefused({ PORT: "70000" }, "PORT", /65535/, /70000/);
    assertRefused({ PORT: "0" }, "PORT", /from 1 to 65535/);
  });

  test("STREAMING_PORT equal to PORT", () => {
    assertRefused({ PORT: "4000", STREAMING_PORT: "4000" }, "STREAMING_PORT", /differ from PORT/, /4000/);
    assertRefused({ STREAMING_PORT: "3000" }, "STREAMING_PORT", /differ from PORT/);
  });

  test("a different STREAMING_PORT is accepted", () => {
    assert.equal(load({ PORT: "4000", STREAMING_PORT: "4001" }).config.streamingPort, 4001);
  });

  test("LOCAL_DOMAIN given as a URL", () => {
    assertRefused({ LOCAL_DOMAIN: "https://x.org" }, "LOCAL_DOMAIN", /not a URL/, /bare domain/);
  });

  test("LOCAL_DOMAIN with characters a domain cannot have", () => {
    assertRefused({ LOCAL_DOMAIN: "exa mple.com" }, "LOCAL_DOMAIN", /not a valid domain/);
    assertRefused({ LOCAL_DOMAIN: "ex_ample.com" }, "LOCAL_DOMAIN", /not a valid domain/);
    assertRefused({ LOCAL_DOMAIN: "example.com/path" }, "LOCAL_DOMAIN", /not a valid domain/);
    assertRefused({ LOCAL_DOMAIN: "me@example.com" }, "LOCAL_DOMAIN", /not a valid domain/);
  });

  test("WEB_DOMAIN without LOCAL_DOMAIN", () => {
    assertRefused({ WEB_DOMAIN: "social.example.com" }, "WEB_DOMAIN", /LOCAL_DOMAIN/);
  });

  test("DATABASE_URL that is not postgres://, without echoing its password", () => {
    const error = assertRefused(
      { DATABASE_URL: "mysql://islet:topsecretpw@db.example:3306/islet" },
      "DATABASE_URL",
      /postgres:\/\//,
      /mysql:/,
    );
    assert.doesNotMatch(error.message, /topsecretpw/);
  });

  test("DATABASE_URL that is not a URL at all", () => {
    const error = assertRefused({ DATABASE_URL: "islet topsecretpw db.example/islet" }, "DATABASE_URL", /not a URL/);
    assert.doesNotMatch(error.message, /topsecretpw/);
  });

  test("DATABASE_URL without a database name", () => {
    assertRefused({ DATABASE_URL: "postgres://islet:pw@db.example:5432" }, "DATABASE_URL", /no database/);
    assertRefused({ DATABASE_URL: "postgresql://islet:pw@db.example:5432/" }, "DATABASE_URL", /no database/);
  });

  test("a postgres:// and a postgresql:// DATABASE_URL are accepted", () => {
    assert.equal(load({ DATABASE_URL: "postgres://islet:pw@db.example:5432/islet" }).config.databaseUrl, "postgres://islet:pw@db.example:5432/islet");
    assert.equal(load({ DATABASE_URL: "postgresql://db.example/islet" }).config.databaseUrl, "postgresql://db.example/islet");
  });

  test("AUTHORIZED_FETCH that is not a boolean", () => {
    assertRefused({ AUTHORIZED_FETCH: "maybe" }, "AUTHORIZED_FETCH", /true or false/, /"maybe"/);
    assert.equal(load({ AUTHORIZED_FETCH: "true" }).config.authorizedFetch, true);
  });

  test("LOG_LEVEL that is not a level", () => {
    assertRefused({ LOG_LEVEL: "loud" }, "LOG_LEVEL", /debug/, /"loud"/);
    assert.equal(load({ LOG_LEVEL: "warn" }).config.logLevel, "warning");
  });

  test("SECRET_KEY_BASE too short, without echoing it", () => {
    const error = assertRefused({ SECRET_KEY_BASE: "shortsecret" }, "SECRET_KEY_BASE", /too short/, /32/);
    assert.doesNotMatch(error.message, /shortsecret/);
  });

  test("TRUSTED_PROXY_IP that is not an IP address", () => {
    assertRefused({ TRUSTED_PROXY_IP: "notanip" }, "TRUSTED_PROXY_IP", /"notanip"/, /IP address/);
    assert.deepEqual(load({ TRUSTED_PROXY_IP: "10.0.0.1, 172.16.0.0/12 ::1" }).config.trustedProxyIps, ["10.0.0.1", "172.16.0.0/12", "::1"]);
  });

  test("TRUSTED_PROXY_IP made only of address characters but no address", () => {
    assertRefused({ TRUSTED_PROXY_IP: "cafe" }, "TRUSTED_PROXY_IP", /"cafe"/);
    assertRefused({ TRUSTED_PROXY_IP: "999.1.1.1" }, "TRUSTED_PROXY_IP", /"999\.1\.1\.1"/);
    assertRefused({ TRUSTED_PROXY_IP: "10.0.0.0/99" }, "TRUSTED_PROXY_IP", /"10\.0\.0\.0\/99"/);
  });

  test("BIND that is not an IP address", () => {
    assertRefused({ BIND: "not-an-ip" }, "BIND", /"not-an-ip"/);
    assertRefused({ BIND: "abc" }, "BIND", /"abc"/);
    assertRefused({ BIND: "1.2.3" }, "BIND", /"1\.2\.3"/);
    for (const bind of ["0.0.0.0", "::", "::1", "localhost"]) {
      assert.equal(load({ BIND: bind }).config.bind, bind);
    }
  });

  test("SECRET_KEY_BASE_FILE naming a missing file", () => {
    const path = join(tempDir(), "no", "such", "secret");
    const error = assertRefused({ SECRET_KEY_BASE_FILE: path }, "SECRET_KEY_BASE_FILE", /no such file/);
    assert.ok(error.message.includes(path), `the message names the path: ${error.message}`);
  });

  test("an empty secret file", () => {
    const dir = tempDir();
    const empty = join(dir, "empty");
    writeFileSync(empty, "");
    const error = assertRefused({ SECRET_KEY_BASE_FILE: empty }, "SECRET_KEY_BASE_FILE", /empty/);
    assert.ok(error.message.includes(empty));
    const newline = join(dir, "newline");
    writeFileSync(newline, "\n");
    assertRefused({ SECRET_KEY_BASE_FILE: newline }, "SECRET_KEY_BASE_FILE", /empty/);
  });

  test("SINGLE_USER_MODE=false is accepted (and ignored); garbage is refused", () => {
    assert.doesNotThrow(() => load({ SINGLE_USER_MODE: "false" }));
    assert.doesNotThrow(() => load({ SINGLE_USER_MODE: "true" }));
    assertRefused({ SINGLE_USER_MODE: "garbage" }, "SINGLE_USER_MODE", /"garbage"/);
  });
});

describe("secrets", () => {
  test("from NAME", () => {
    assert.deepEqual(readSecret({ SMTP_PASSWORD: "from-env" }, "SMTP_PASSWORD"), { value: "from-env", source: "SMTP_PASSWORD" });
  });

  test("from NAME_FILE, with the trailing newline trimmed", () => {
    const path = join(tempDir(), "smtp");
    writeFileSync(path, "from-file\n");
    assert.deepEqual(readSecret({ SMTP_PASSWORD_FILE: path }, "SMTP_PASSWORD"), { value: "from-file", source: "SMTP_PASSWORD_FILE" });
  });

  test("from $CREDENTIALS_DIRECTORY/NAME", () => {
    const credentials = tempDir();
    writeFileSync(join(credentials, "SMTP_PASSWORD"), "from-credentials\n");
    assert.deepEqual(
      readSecret({ CREDENTIALS_DIRECTORY: credentials }, "SMTP_PASSWORD"),
      { value: "from-credentials", source: "$CREDENTIALS_DIRECTORY/SMTP_PASSWORD" },
    );
  });

  test("none given: null", () => {
    assert.equal(readSecret({ CREDENTIALS_DIRECTORY: tempDir() }, "SMTP_PASSWORD"), null);
  });

  test("NAME takes precedence over NAME_FILE, which takes precedence over the credentials folder", () => {
    const dir = tempDir();
    const file = join(dir, "file");
    writeFileSync(file, "from-file\n");
    const credentials = join(dir, "credentials");
    mkdirSync(credentials);
    writeFileSync(join(credentials, "SMTP_PASSWORD"), "from-credentials\n");
    const all = { SMTP_PASSWORD: "from-env", SMTP_PASSWORD_FILE: file, CREDENTIALS_DIRECTORY: credentials };
    assert.equal(readSecret(all, "SMTP_PASSWORD")?.value, "from-env");
    assert.equal(readSecret({ ...all, SMTP_PASSWORD: undefined }, "SMTP_PASSWORD")?.value, "from-file");
    assert.equal(readSecret({ CREDENTIALS_DIRECTORY: credentials }, "SMTP_PASSWORD")?.value, "from-credentials");
  });

  test("loadConfig reads SECRET_KEY_BASE and DATABASE_URL from each kind of source", () => {
    const dir = tempDir();
    const file = join(dir, "skb");
    writeFileSync(file, `${LONG_SECRET}-file\n`);
    const credentials = join(dir, "credentials");
    mkdirSync(credentials);
    writeFileSync(join(credentials, "SECRET_KEY_BASE"), `${LONG_SECRET}-credentials\n`);
    writeFileSync(join(credentials, "DATABASE_URL"), "postgres://islet:pw@db.example/islet\n");

    const fromEnv = load({ SECRET_KEY_BASE: LONG_SECRET, SECRET_KEY_BASE_FILE: file, CREDENTIALS_DIRECTORY: credentials }).config;
    assert.equal(fromEnv.secretKeyBase, LONG_SECRET);
    assert.equal(fromEnv.sources.SECRET_KEY_BASE, "SECRET_KEY_BASE");

    const fromFile = load({ SECRET_KEY_BASE_FILE: file, CREDENTIALS_DIRECTORY: credentials }).config;
    assert.equal(fromFile.secretKeyBase, `${LONG_SECRET}-file`);
    assert.equal(fromFile.sources.SECRET_KEY_BASE, "SECRET_KEY_BASE_FILE");

    const fromCredentials = load({ CREDENTIALS_DIRECTORY: credentials }).config;
    assert.equal(fromCredentials.secretKeyBase, `${LONG_SECRET}-credentials`);
    assert.equal(fromCredentials.sources.SECRET_KEY_BASE, "$CREDENTIALS_DIRECTORY/SECRET_KEY_BASE");
    assert.equal(fromCredentials.databaseUrl, "postgres://islet:pw@db.example/islet");
    assert.equal(fromCredentials.sources.DATABASE_URL, "$CREDENTIALS_DIRECTORY/DATABASE_URL");
  });

  test("a secret given by file is checked like one given directly", () => {
    const file = join(tempDir(), "skb");
    writeFileSync(file, "short\n");
    assertRefused({ SECRET_KEY_BASE_FILE: file }, "SECRET_KEY_BASE_FILE", /too short/);
  });
});

describe("SECRET_KEY_BASE kept under DATA_DIR", () => {
  test("generated on first load into DATA_DIR/secret_key_base (mode 0600), the same on the next", () => {
    const dataDir = join(tempDir(), "data");
    const first = loadConfig({ DATA_DIR: dataDir });
    const path = join(dataDir, "secret_key_base");
    assert.ok(existsSync(path), "the secret is kept in DATA_DIR");
    assert.equal(mode(path), 0o600);
    assert.ok(first.secretKeyBase.length >= 64, `a long secret: ${first.secretKeyBase.length} characters`);
    assert.equal(readFileSync(path, "utf8").trim(), first.secretKeyBase);
    assert.match(first.sources.SECRET_KEY_BASE, /generated/);

    const second = loadConfig({ DATA_DIR: dataDir });
    assert.equal(second.secretKeyBase, first.secretKeyBase);
    assert.doesNotMatch(second.sources.SECRET_KEY_BASE, /generated/);
    assert.ok(second.sources.SECRET_KEY_BASE.includes(path), "the source names the file");
  });

  test("each DATA_DIR gets its own random secret", () => {
    const a = load({}).config.secretKeyBase;
    const b = load({}).config.secretKeyBase;
    assert.notEqual(a, b);
  });

  test("a SECRET_KEY_BASE in the environment is used and nothing is written", () => {
    const { config } = load({ SECRET_KEY_BASE: LONG_SECRET });
    assert.equal(config.secretKeyBase, LONG_SECRET);
    assert.equal(existsSync(join(config.dataDir, "secret_key_base")), false);
  });
});

describe("DATA_DIR", () => {
  test("is created with its parents, readable by the owner only (0700)", () => {
    const dataDir = join(tempDir(), "a", "b", "c");
    loadConfig({ DATA_DIR: dataDir });
    assert.ok(statSync(dataDir).isDirectory());
    assert.equal(mode(dataDir), 0o700);
  });

  test("an existing DATA_DIR open to others is made private", () => {
    const dataDir = join(tempDir(), "data");
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    loadConfig({ DATA_DIR: dataDir });
    assert.equal(mode(dataDir), 0o700);
  });

  test("a DATA_DIR that cannot be created is refused, naming DATA_DIR", () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "not a folder");
    const dataDir = join(file, "data");
    const error = assertRefused({ DATA_DIR: dataDir }, "DATA_DIR");
    assert.ok(error.message.includes(dataDir), `the message names the path: ${error.message}`);
  });
});

describe("describeConfig", () => {
  test("masks every secret and names where each came from", () => {
    const password = "hunter2-database-password";
    const { config } = load({
      SECRET_KEY_BASE: LONG_SECRET,
      DATABASE_URL: `postgres://islet:${password}@db.example:5432/islet`,
      LOCAL_DOMAIN: "example.com",
    });
    const lines = describeConfig(config);
    const text = lines.join("\n");
    assert.ok(!text.includes(LONG_SECRET), "the secret key base is not shown");
    assert.ok(!text.includes(password), "the database password is not shown");
    const secretLine = lines.find((line) => line.startsWith("SECRET_KEY_BASE="));
    assert.ok(secretLine != null, text);
    assert.match(secretLine, /from SECRET_KEY_BASE\b/);
    const databaseLine = lines.find((line) => line.startsWith("DATABASE_URL="));
    assert.ok(databaseLine != null, text);
    assert.match(databaseLine, /db\.example/);
    assert.match(databaseLine, /from DATABASE_URL\b/);
    assert.ok(lines.includes("LOCAL_DOMAIN=example.com"), text);
  });

  test("names a file, a credential or the generated file as the source, still masked", () => {
    const dir = tempDir();
    const file = join(dir, "skb");
    writeFileSync(file, `${LONG_SECRET}\n`);
    const fromFile = describeConfig(load({ SECRET_KEY_BASE_FILE: file }).config).join("\n");
    assert.match(fromFile, /SECRET_KEY_BASE=.*from SECRET_KEY_BASE_FILE/);
    assert.ok(!fromFile.includes(LONG_SECRET));

    const credentials = join(dir, "credentials");
    mkdirSync(credentials);
    writeFileSync(join(credentials, "DATABASE_URL"), "postgres://islet:credential-password@db.example/islet\n");
    const fromCredentials = describeConfig(load({ CREDENTIALS_DIRECTORY: credentials }).config).join("\n");
    assert.match(fromCredentials, /DATABASE_URL=.*from \$CREDENTIALS_DIRECTORY\/DATABASE_URL/);
    assert.ok(!fromCredentials.includes("credential-password"));

    const generated = load({}).config;
    const described = describeConfig(generated).join("\n");
    assert.ok(!described.includes(generated.secretKeyBase), "the generated secret is not shown");
    assert.match(described, /SECRET_KEY_BASE=.*secret_key_base/);
  });

  test("says when the embedded database is used", () => {
    const { config } = load({});
    const line = describeConfig(config).find((l) => l.startsWith("DATABASE_URL="));
    assert.ok(line != null);
    assert.match(line, /PGlite/);
  });
});

describe("Mastodon's variables", () => {
  test("the ones Islet has no use for are listed, sorted; Islet's own and unrelated ones are not", () => {
    const { config } = load({
      LOCAL_DOMAIN: "example.com",
      RAILS_SERVE_STATIC_FILES: "true",
      REDIS_HOST: "localhost",
      OTP_SECRET: "x",
      SMTP_DELIVERY_METHOD: "smtp",
      S3_ENABLED: "false",
      S3_MULTIPART_THRESHOLD: "15728640",
      ES_ENABLED: "",
      SINGLE_USER_MODE: "true",
      SMTP_SERVER: "smtp.example.net",
      SMTP_ENABLE_STARTTLS_AUTO: "true",
      SMTP_TLS: "true",
      PATH: "/usr/bin",
      NODE_ENV: "production",
    });
    assert.deepEqual(config.ignoredMastodonVariables, ["OTP_SECRET", "RAILS_SERVE_STATIC_FILES", "REDIS_HOST", "S3_MULTIPART_THRESHOLD", "SMTP_DELIVERY_METHOD"]);
    assert.equal(
      ignoredVariablesWarning(config.ignoredMastodonVariables),
      "Mastodon settings that Islet does not use, ignored: OTP_SECRET, RAILS_SERVE_STATIC_FILES, REDIS_HOST, S3_MULTIPART_THRESHOLD, SMTP_DELIVERY_METHOD",
    );
    assert.equal(ignoredVariablesWarning(load({}).config.ignoredMastodonVariables), null, "nothing to say for a plain environment");
    assert.deepEqual(ignoredMastodonVariables({ SMTP_PASSWORD_FILE: "/run/x", DB_PASS_FILE: "/run/y", ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY_FILE: "/run/z" }), ["ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY_FILE"]);
  });

  test("SMTP_ENABLE_STARTTLS_AUTO is read as SMTP_ENABLE_STARTTLS; SMTP_SSL as SMTP_TLS", () => {
    const mail = { SMTP_SERVER: "smtp.example.net" };
    assert.equal(load({ ...mail, SMTP_ENABLE_STARTTLS_AUTO: "false" }).config.smtp.enableStarttls, "never");
    assert.equal(load({ ...mail, SMTP_ENABLE_STARTTLS_AUTO: "true" }).config.smtp.enableStarttls, "auto");
    assert.equal(load({ ...mail, SMTP_ENABLE_STARTTLS_AUTO: "false", SMTP_ENABLE_STARTTLS: "always" }).config.smtp.enableStarttls, "always", "Islet's name wins");
    assertRefused({ ...mail, SMTP_ENABLE_STARTTLS_AUTO: "maybe" }, "SMTP_ENABLE_STARTTLS_AUTO", /expected true or false/);

    const ssl = load({ ...mail, SMTP_SSL: "true" }).config.smtp;
    assert.equal(ssl.tls, true);
    assert.equal(ssl.port, 465, "implicit TLS defaults to port 465");
    assert.equal(load({ ...mail, SMTP_SSL: "true", SMTP_TLS: "false" }).config.smtp.tls, false, "Islet's name wins");
  });

  test("RAILS_LOG_LEVEL is read as LOG_LEVEL when that is unset", () => {
    assert.equal(load({ RAILS_LOG_LEVEL: "warn" }).config.logLevel, "warning");
    assert.equal(load({ RAILS_LOG_LEVEL: "warn", LOG_LEVEL: "debug" }).config.logLevel, "debug");
    assertRefused({ RAILS_LOG_LEVEL: "loud" }, "RAILS_LOG_LEVEL", /expected debug, info, warning or error/);
  });

  test("DB_HOST, DB_PORT, DB_NAME, DB_USER and DB_PASS make DATABASE_URL, with Mastodon's defaults", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "db-pass"), "p@ss:word/1\n");
    const { config } = load({ DB_HOST: "db.example.net", DB_PORT: "5433", DB_PASS_FILE: join(dir, "db-pass") });
    assert.equal(config.databaseUrl, "postgres://mastodon:p%40ss%3Aword%2F1@db.example.net:5433/mastodon_production");
    assert.equal(config.sources.DATABASE_URL, "DB_HOST, DB_PORT, DB_PASS_FILE");
    assert.equal(new URL(config.databaseUrl).password, "p%40ss%3Aword%2F1");

    const named = load({ DB_HOST: "::1", DB_NAME: "islet", DB_USER: "islet", DB_SSLMODE: "require" }).config;
    assert.equal(named.databaseUrl, "postgres://islet@[::1]:5432/islet?sslmode=require");
    assert.equal(load({ DB_HOST: "db.example.net", DATABASE_URL: "postgres://a@b/c" }).config.databaseUrl, "postgres://a@b/c", "DATABASE_URL wins");
    assert.equal(load({}).config.databaseUrl, null);

    assertRefused({ DB_HOST: "/run/postgresql", DB_NAME: "islet" }, "DB_HOST", /socket folder/, /DATABASE_URL=postgres:\/\/\/islet and PGHOST=\/run\/postgresql/);
    assertRefused({ DB_HOST: "db.example.net", DB_PORT: "none" }, "DB_PORT", /whole number/);
    assertRefused({ DB_HOST: "not a host" }, "DB_HOST", /host name or IP address/);
  });
});

describe("SOCKET", () => {
  test("an absolute path is where the server listens instead of BIND:PORT; a relative one is refused", () => {
    assert.equal(load({}).config.socket, null);
    assert.equal(load({ SOCKET: "/run/islet/web.socket" }).config.socket, "/run/islet/web.socket");
    assert.deepEqual(load({ SOCKET: "/run/islet/web.socket" }).config.ignoredMastodonVariables, [], "SOCKET is read, not ignored");
    assertRefused({ SOCKET: "web.socket" }, "SOCKET", /absolute path of a Unix socket/);
  });
});
