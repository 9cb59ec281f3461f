/**
 * The NixOS files under deploy/nixos, checked by nix-instantiate without
 * nixpkgs (none is reachable here): every file parses; the module is
 * evaluated against a stand-in `lib` (test/deploy/nix/eval-module.nix) for
 * its options, renamed options, environment, credentials, sandbox,
 * PostgreSQL and nginx settings, admin command and assertions; each example
 * is evaluated as a host would (eval-example.nix: the real flake, its
 * nixpkgs stood in); and the package's npmDeps is evaluated with a
 * stand-in importNpmLock that checks it is given the repository's lock file
 * (eval-package.nix). With ISLET_NIXPKGS naming a nixpkgs checkout, the
 * package is also evaluated with the real nixpkgs functions.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { announceSkip } from "../helpers/skip.ts";
import { ROOT, skipUnless } from "./tools.ts";

const NIXOS = join(ROOT, "deploy", "nixos");

function read(path: string): string {
  return readFileSync(join(ROOT, path), "utf8");
}

function listNix(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listNix(join(dir, entry.name)) : entry.name.endsWith(".nix") ? [join(dir, entry.name)] : []);
}

function report(result: SpawnSyncReturns<string>): string {
  return `exit ${result.status}${result.error ? ` (${result.error.message})` : ""}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

function nix(args: string[]): SpawnSyncReturns<string> {
  // No build users here, and nothing is built: only evaluation.
  return spawnSync("nix-instantiate", ["--option", "build-users-group", "", ...args], {
    cwd: ROOT, encoding: "utf8", timeout: 120_000, env: { ...process.env, NIX_PATH: "" },
  });
}

function evaluate<T>(expr: string): T {
  const result = nix(["--eval", "--strict", "--json", "--expr", expr]);
  assert.equal(result.status, 0, `nix-instantiate --eval failed\n${report(result)}`);
  return JSON.parse(result.stdout) as T;
}

interface ModuleResult {
  options: string[];
  renamedOptions: Record<string, string>;
  removedOptions: string[];
  renameTargetsDeclared: boolean;
  failedAssertions: string[];
  warnings: string[];
  environment: Record<string, string>;
  serviceConfig: Record<string, unknown>;
  after: string[];
  requires: string[];
  postgresql: { enable: boolean; ensureDatabases: string[]; ensureUsers: { name: string; ensureDBOwnership: boolean }[]; settings?: { port?: number } } | null;
  nginxVirtualHosts: Record<string, VirtualHost>;
  firewall: number[];
  adminCommand: string[];
  launcher: string;
  package: string;
}

interface VirtualHost {
  locations: Record<string, Record<string, unknown>>;
  enableACME: boolean | null;
  forceSSL: boolean | null;
  extraConfig: string;
}

/** The NixOS module evaluated with `settings` (a Nix expression) for services.islet. */
function evalModule(settings: string): ModuleResult {
  return evaluate<ModuleResult>(`import ./test/deploy/nix/eval-module.nix { module = import ./deploy/nixos/module.nix; settings = ${settings}; }`);
}

/** `location` names in an nginx file, in order. */
function nginxLocations(text: string): string[] {
  return [...text.matchAll(/^\s*location\s+(.+?)\s*\{/gm)].map((m) => m[1].replace(/^\^~\s+/, ""));
}

const BASE = `enable = true; localDomain = "example.com";`;

describe("NixOS", { skip: skipUnless("nix-instantiate") }, () => {
  test("every .nix file parses", () => {
    const files = [...listNix(NIXOS), ...listNix(join(ROOT, "test", "deploy", "nix"))];
    assert.ok(files.length >= 12, `found ${files.map((f) => relative(ROOT, f)).join(", ")}`);
    const result = nix(["--parse", ...files]);
    assert.equal(result.status, 0, `a .nix file does not parse\n${report(result)}`);
  });

  test("module.nix is a module function, flake.nix a flake, lib.nix the helpers it exports", () => {
    const kinds = evaluate(
      "{ module = builtins.typeOf (import ./deploy/nixos/module.nix); flake = builtins.attrNames (import ./deploy/nixos/flake.nix);" +
        " vhost = builtins.typeOf (import ./deploy/nixos/nginx-vhost.nix); lib = builtins.attrNames (import ./deploy/nixos/lib.nix); }",
    );
    assert.deepEqual(kinds, { module: "lambda", flake: ["description", "inputs", "outputs"], vhost: "lambda", lib: ["nginxVirtualHost", "secretBindMounts", "secretFiles", "socketPath"] });
  });

  test("services.islet declares every Islet setting, in services.mastodon's words", () => {
    const result = evalModule("{ }");
    assert.deepEqual(result.options, [
      "authorizedFetch", "bind", "configureNginx", "database.createLocally", "database.embedded", "database.host", "database.name",
      "database.passwordFile", "database.port", "database.urlFile", "database.user", "enable", "enableUnixSocket", "extraConfig", "extraEnvFiles", "ffmpegPackage", "group",
      "localDomain", "logLevel", "mediaAutoRemove.enable", "mediaAutoRemove.olderThanDays", "openFirewall", "package",
      "queueVisibilityTimeout", "secretKeyBaseFile", "smtp.authMethod", "smtp.authenticate", "smtp.caFile", "smtp.fromAddress",
      "smtp.host", "smtp.openSslVerifyMode", "smtp.passwordFile", "smtp.port", "smtp.starttls", "smtp.tls", "smtp.user",
      "streamingApiBaseUrl", "streamingPort", "trustedProxy", "user", "vapidPrivateKeyFile", "vapidPublicKeyFile", "webDomain", "webPort",
    ]);
    assert.deepEqual(result.renamedOptions, {
      port: "webPort", "smtp.server": "smtp.host", "smtp.login": "smtp.user", "nginx.enable": "configureNginx",
      extraEnvironment: "extraConfig", environmentFiles: "extraEnvFiles", mediaCacheRetentionDays: "mediaAutoRemove.olderThanDays",
    });
    assert.ok(result.renameTargetsDeclared, "every new name is an option");
    assert.deepEqual(result.removedOptions, ["nginx.enableACME", "nginx.serveMediaFromDisk"]);
  });

  test("the earlier names still work, with a warning naming the new one", () => {
    const old = evalModule(`{ ${BASE} port = 4000; smtp = { server = "smtp.example.net"; login = "me"; passwordFile = "/run/secrets/smtp"; };
      nginx.enable = true; extraEnvironment.ALLOW_PRIVATE_ADDRESS = "false"; environmentFiles = [ "/run/secrets/env" ]; mediaCacheRetentionDays = 3; }`);
    const current = evalModule(`{ ${BASE} webPort = 4000; smtp = { host = "smtp.example.net"; user = "me"; passwordFile = "/run/secrets/smtp"; };
      configureNginx = true; extraConfig.ALLOW_PRIVATE_ADDRESS = "false"; extraEnvFiles = [ "/run/secrets/env" ]; mediaAutoRemove.olderThanDays = 3; }`);
    assert.deepEqual(old.environment, current.environment);
    assert.deepEqual(old.serviceConfig, current.serviceConfig);
    assert.deepEqual(old.nginxVirtualHosts, current.nginxVirtualHosts);
    assert.equal(current.environment.PORT, "4000");
    assert.equal(current.environment.SMTP_LOGIN, "me");
    assert.equal(current.environment.MEDIA_CACHE_RETENTION_DAYS, "3");
    assert.deepEqual(current.warnings, []);
    assert.equal(old.warnings.length, 7);
    assert.ok(old.warnings.includes("The option `services.islet.smtp.server' has been renamed to `services.islet.smtp.host'."), old.warnings.join("\n"));

    const removed = evalModule(`{ ${BASE} configureNginx = true; nginx = { enableACME = false; serveMediaFromDisk = true; }; }`).failedAssertions.join("\n");
    assert.match(removed, /services\.islet\.nginx\.enableACME' no longer has any effect[\s\S]*virtualHosts\.<web domain>\.enableACME = false/);
    assert.match(removed, /services\.islet\.nginx\.serveMediaFromDisk' no longer has any effect[\s\S]*\/var\/lib\/private/);
  });

  test("a disabled service configures nothing", () => {
    const result = evalModule(`{ localDomain = "example.com"; }`);
    assert.deepEqual(result.serviceConfig, {});
    assert.equal(result.postgresql, null);
  });

  test("the service: secrets as credentials, local PostgreSQL over the socket, the environment Islet reads", () => {
    const result = evalModule(`{ ${BASE}
      secretKeyBaseFile = "/run/secrets/islet-secret-key-base";
      smtp = { host = "smtp.eu.mailgun.org"; tls = true; user = "postmaster@example.com";
               passwordFile = "/run/secrets/islet-smtp-password"; fromAddress = "Islet <islet@example.com>"; };
      extraEnvFiles = [ "/run/secrets/islet-env" ];
    }`);
    assert.deepEqual(result.failedAssertions, []);
    assert.deepEqual(result.warnings, []);
    const service = result.serviceConfig;
    assert.equal(service.DynamicUser, true);
    assert.equal(service.User, "islet");
    assert.equal(service.Group, "islet");
    assert.equal(service.StateDirectory, "islet");
    assert.deepEqual(service.LoadCredential, [
      "SECRET_KEY_BASE:/run/secrets/islet-secret-key-base",
      "SMTP_PASSWORD:/run/secrets/islet-smtp-password",
    ]);
    assert.deepEqual(service.EnvironmentFile, ["/run/secrets/islet-env"]);
    assert.match(String(service.ExecStart), / serve$/);
    for (const [key, value] of Object.entries({
      ProtectSystem: "strict", NoNewPrivileges: true, MemoryDenyWriteExecute: false, CapabilityBoundingSet: "", UMask: "0077",
      SystemCallArchitectures: "native", PrivateDevices: true, RestrictNamespaces: true,
    })) assert.equal(service[key], value, key);
    assert.deepEqual(service.SystemCallFilter, ["@system-service", "~@privileged @resources"]);
    assert.deepEqual(service.RestrictAddressFamilies, ["AF_UNIX", "AF_INET", "AF_INET6"]);

    assert.deepEqual(result.environment, {
      AUTHORIZED_FETCH: "false", BIND: "127.0.0.1", DATABASE_URL: "postgres:///islet", DATA_DIR: "/var/lib/islet",
      FFMPEG_BINARY: "/nix/store/00000000000000000000000000000000-ffmpeg-headless/bin/ffmpeg",
      FFPROBE_BINARY: "/nix/store/00000000000000000000000000000000-ffmpeg-headless/bin/ffprobe", ISLET_ADMIN_COMMAND: "islet", LOCAL_DOMAIN: "example.com",
      LOG_LEVEL: "info", MEDIA_CACHE_RETENTION_DAYS: "7", NODE_ENV: "production", PGHOST: "/run/postgresql", PGPORT: "5432", PGUSER: "islet",
      PORT: "3000", QUEUE_VISIBILITY_TIMEOUT: "60", SMTP_AUTH_METHOD: "plain", SMTP_ENABLE_STARTTLS: "auto",
      SMTP_FROM_ADDRESS: "Islet <islet@example.com>", SMTP_LOGIN: "postmaster@example.com", SMTP_OPENSSL_VERIFY_MODE: "peer",
      SMTP_PORT: "465", SMTP_SERVER: "smtp.eu.mailgun.org", SMTP_TLS: "true", TRUSTED_PROXY_IP: "127.0.0.1",
    });
    assert.deepEqual(result.postgresql, { enable: true, ensureDatabases: ["islet"], ensureUsers: [{ name: "islet", ensureDBOwnership: true }] });
    assert.ok(result.requires.includes("postgresql.service"));
    assert.ok(result.after.includes("postgresql.service"));

    // `islet` for root: the same user, state, credentials and environment.
    assert.equal(result.adminCommand.length, 1);
    const admin = result.adminCommand[0];
    for (const part of [
      "systemd-run", "--wait", "--pipe", "'--property=DynamicUser=yes'", "'--property=User=islet'", "'--property=StateDirectory=islet'",
      "'--property=LoadCredential=SECRET_KEY_BASE:/run/secrets/islet-secret-key-base'",
      "'--property=LoadCredential=SMTP_PASSWORD:/run/secrets/islet-smtp-password'",
      "'--property=EnvironmentFile=/run/secrets/islet-env'", "'--setenv=LOCAL_DOMAIN=example.com'",
      "'--setenv=SMTP_FROM_ADDRESS=Islet <islet@example.com>'", "'--setenv=PGHOST=/run/postgresql'",
    ]) assert.ok(admin.includes(part), `admin command lacks ${part}:\n${admin}`);
    assert.match(admin, /-- \S+-islet-launch "\$@"/);
  });

  test("smtp: tls alone means port 465, as Islet's own default; login only when authenticating", () => {
    const smtp = (settings: string) => evalModule(`{ ${BASE} smtp = { host = "smtp.example.net"; ${settings} }; }`);
    assert.equal(smtp(`tls = true;`).environment.SMTP_PORT, "465");
    assert.equal(smtp(``).environment.SMTP_PORT, "587");
    assert.equal(smtp(`tls = true; port = 2465;`).environment.SMTP_PORT, "2465");

    const anonymous = smtp(``);
    assert.equal(anonymous.environment.SMTP_AUTH_METHOD, "none");
    assert.equal(anonymous.environment.SMTP_LOGIN, undefined);
    assert.deepEqual(anonymous.failedAssertions, []);

    const login = smtp(`user = "me"; passwordFile = "/run/secrets/smtp"; authMethod = "login"; starttls = "always";
      caFile = "/etc/ssl/relay-ca.pem"; openSslVerifyMode = "none";`);
    assert.equal(login.environment.SMTP_AUTH_METHOD, "login");
    assert.equal(login.environment.SMTP_LOGIN, "me");
    assert.equal(login.environment.SMTP_ENABLE_STARTTLS, "always");
    assert.equal(login.environment.SMTP_CA_FILE, "/etc/ssl/relay-ca.pem");
    assert.equal(login.environment.SMTP_OPENSSL_VERIFY_MODE, "none");

    const off = smtp(`user = "me"; passwordFile = "/run/secrets/smtp"; authenticate = false;`);
    assert.equal(off.environment.SMTP_AUTH_METHOD, "none");
    assert.equal(off.environment.SMTP_LOGIN, undefined);
    assert.match(smtp(`authenticate = true;`).failedAssertions.join("\n"), /authenticate needs user and passwordFile/);
    assert.match(smtp(`user = "me";`).failedAssertions.join("\n"), /authenticate needs user and passwordFile/);
  });

  test("database: embedded, local PostgreSQL on another port, remote, or a whole URL", () => {
    const embedded = evalModule(`{ ${BASE} database.embedded = true; }`);
    assert.deepEqual(embedded.failedAssertions, []);
    assert.deepEqual(embedded.warnings, []);
    assert.equal(embedded.environment.DATABASE_URL, undefined);
    assert.equal(embedded.environment.PGHOST, undefined);
    assert.equal(embedded.postgresql, null);
    assert.ok(!embedded.requires.includes("postgresql.service"));

    const implicit = evalModule(`{ ${BASE} database.createLocally = false; }`);
    assert.deepEqual(implicit.failedAssertions, [], "no PostgreSQL named: the embedded database, as Islet does by default");
    assert.equal(implicit.environment.DATABASE_URL, undefined);
    assert.equal(implicit.postgresql, null);
    assert.match(implicit.warnings.join("\n"), /uses its embedded database; set database\.embedded = true/);

    const port = evalModule(`{ ${BASE} database.port = 5433; }`);
    assert.equal(port.environment.PGPORT, "5433");
    assert.equal(port.environment.DATABASE_URL, "postgres:///islet");
    assert.equal(port.postgresql?.settings?.port, 5433, "the local PostgreSQL listens there");

    const remote = evalModule(`{ ${BASE} database = { createLocally = false; host = "db.example.net"; port = 6432; passwordFile = "/run/secrets/db"; }; }`);
    assert.deepEqual(remote.failedAssertions, []);
    assert.equal(remote.environment.DATABASE_URL, "postgres://islet@db.example.net:6432/islet");
    assert.deepEqual(remote.serviceConfig.LoadCredential, ["DATABASE_PASSWORD:/run/secrets/db"]);
    assert.equal(remote.postgresql, null);
    assert.equal(evalModule(`{ ${BASE} database = { createLocally = false; host = "db.example.net"; }; }`).environment.DATABASE_URL, "postgres://islet@db.example.net:5432/islet");

    const url = evalModule(`{ ${BASE} database.urlFile = "/run/secrets/db-url"; }`);
    assert.equal(url.environment.DATABASE_URL, undefined);
    assert.deepEqual(url.serviceConfig.LoadCredential, ["DATABASE_URL:/run/secrets/db-url"]);
    assert.equal(url.postgresql, null);
  });

  test("every other Islet setting is a typed option", () => {
    const result = evalModule(`{ ${BASE} webDomain = "social.example.com"; streamingPort = 4000; bind = "0.0.0.0";
      trustedProxy = "10.0.0.0/8"; streamingApiBaseUrl = "wss://streaming.example.com"; authorizedFetch = true; logLevel = "debug";
      queueVisibilityTimeout = 120; mediaAutoRemove.enable = false;
      vapidPrivateKeyFile = "/run/secrets/vapid-private"; vapidPublicKeyFile = "/run/secrets/vapid-public";
      user = "fedi"; group = "fedi"; database = { user = "fedi"; name = "fedi"; }; }`);
    assert.deepEqual(result.failedAssertions, []);
    const env = result.environment;
    assert.equal(env.WEB_DOMAIN, "social.example.com");
    assert.equal(env.STREAMING_PORT, "4000");
    assert.equal(env.BIND, "0.0.0.0");
    assert.equal(env.TRUSTED_PROXY_IP, "10.0.0.0/8");
    assert.equal(env.STREAMING_API_BASE_URL, "wss://streaming.example.com");
    assert.equal(env.AUTHORIZED_FETCH, "true");
    assert.equal(env.LOG_LEVEL, "debug");
    assert.equal(env.QUEUE_VISIBILITY_TIMEOUT, "120");
    assert.equal(env.MEDIA_CACHE_RETENTION_DAYS, "0", "0 is Islet's never");
    assert.equal(env.PGUSER, "fedi");
    assert.equal(env.DATABASE_URL, "postgres:///fedi");
    assert.equal(result.serviceConfig.User, "fedi");
    assert.equal(result.serviceConfig.Group, "fedi");
    assert.deepEqual(result.serviceConfig.LoadCredential, ["VAPID_PRIVATE_KEY:/run/secrets/vapid-private", "VAPID_PUBLIC_KEY:/run/secrets/vapid-public"]);
    assert.equal(evalModule(`{ ${BASE} trustedProxy = null; }`).environment.TRUSTED_PROXY_IP, undefined);
  });

  test("bad settings fail the module's assertions", () => {
    const failed = (settings: string) => evalModule(`{ ${BASE} ${settings} }`).failedAssertions.join("\n");
    assert.match(failed(`database.user = "someone";`), /createLocally, user and name must both be "islet"/);
    assert.match(failed(`user = "fedi";`), /createLocally, user and name must both be "fedi"/);
    assert.match(failed(`database = { embedded = true; host = "db.example.net"; };`), /embedded is set, and so is host or urlFile/);
    assert.match(failed(`vapidPrivateKeyFile = "/run/secrets/vapid";`), /both vapidPrivateKeyFile and vapidPublicKeyFile, or neither/);
    assert.match(failed(`secretKeyBaseFile = "/nix/store/0000-secret";`), /in the Nix store/);
  });

  test("configureNginx: the locations of deploy/nginx/islet.conf bar media, ACME, the handle domain redirected", () => {
    const result = evalModule(`{ ${BASE} webDomain = "social.example.com"; streamingPort = 4000; configureNginx = true; openFirewall = true; }`);
    const vhost = result.nginxVirtualHosts["social.example.com"];
    assert.ok(vhost, `virtual hosts: ${Object.keys(result.nginxVirtualHosts).join(", ")}`);
    const fromFile = nginxLocations(read("deploy/nginx/islet.conf")).filter((l) => !["/.well-known/acme-challenge/", "/system/", "@islet"].includes(l));
    assert.deepEqual(Object.keys(vhost.locations).sort(), [...new Set(fromFile)].sort());
    assert.equal(vhost.locations["/"].proxyPass, "http://127.0.0.1:3000");
    assert.equal(vhost.locations["/api/v1/streaming"].proxyPass, "http://127.0.0.1:4000");
    assert.equal(vhost.locations["/api/v1/streaming"].proxyWebsockets, true);
    assert.match(vhost.extraConfig, /client_max_body_size 100m;/);
    assert.equal(vhost.enableACME, true);
    assert.equal(vhost.forceSSL, true);
    assert.equal(result.environment.TRUSTED_PROXY_IP, "127.0.0.1");
    assert.deepEqual(result.firewall, [80, 443]);
    const handle = result.nginxVirtualHosts["example.com"];
    assert.equal(handle.locations["= /.well-known/webfinger"].return, "301 https://social.example.com$request_uri");
    assert.equal(handle.locations["= /.well-known/host-meta"].return, "301 https://social.example.com$request_uri");

    const plain = evalModule(`{ ${BASE} configureNginx = true; webPort = 3100; bind = "0.0.0.0"; }`);
    assert.deepEqual(Object.keys(plain.nginxVirtualHosts), ["example.com"]);
    assert.equal(plain.nginxVirtualHosts["example.com"].locations["/"].proxyPass, "http://127.0.0.1:3100", "0.0.0.0 is reached on loopback");
    assert.deepEqual(evalModule(`{ ${BASE} openFirewall = true; webPort = 3100; streamingPort = 4000; }`).firewall, [3100, 4000]);
  });

  test("enableUnixSocket: Islet on /run/islet/web.socket, nginx following it; the admin command leaves the folder alone", () => {
    const result = evalModule(`{ ${BASE} enableUnixSocket = true; configureNginx = true; }`);
    assert.deepEqual(result.failedAssertions, []);
    assert.equal(result.environment.SOCKET, "/run/islet/web.socket");
    assert.equal(result.serviceConfig.RuntimeDirectory, "islet");
    assert.equal(result.serviceConfig.RuntimeDirectoryMode, "0755", "nginx may reach the socket");
    const { locations } = result.nginxVirtualHosts["example.com"];
    assert.equal(locations["/"].proxyPass, "http://unix:/run/islet/web.socket");
    assert.equal(locations["/api/v1/streaming"].proxyPass, "http://unix:/run/islet/web.socket");
    assert.doesNotMatch(result.adminCommand[0], /RuntimeDirectory/, "a runtime folder of the admin command's would be removed when it ends");
    assert.match(result.adminCommand[0], /'--setenv=SOCKET=\/run\/islet\/web\.socket'/);

    const streaming = evalModule(`{ ${BASE} enableUnixSocket = true; streamingPort = 4000; configureNginx = true; }`);
    assert.equal(streaming.nginxVirtualHosts["example.com"].locations["/api/v1/streaming"].proxyPass, "http://127.0.0.1:4000");
    assert.deepEqual(evalModule(`{ ${BASE} enableUnixSocket = true; openFirewall = true; }`).firewall, [], "no port to open");
    assert.equal(evalModule(`{ ${BASE} }`).environment.SOCKET, undefined);
  });

  test("lib.nginxVirtualHost takes an address and port, or a services.islet configuration", () => {
    const proxy = (args: string) => evaluate<Record<string, string>>(
      `let v = import ./deploy/nixos/nginx-vhost.nix ${args}; in { web = v.locations."/".proxyPass; streaming = v.locations."/api/v1/streaming".proxyPass; }`,
    );
    assert.deepEqual(proxy(`{ port = 3000; }`), { web: "http://127.0.0.1:3000", streaming: "http://127.0.0.1:3000" });
    assert.deepEqual(proxy(`{ address = "10.233.1.2"; port = 3100; streamingPort = 4000; }`), { web: "http://10.233.1.2:3100", streaming: "http://10.233.1.2:4000" });
    assert.deepEqual(proxy(`{ bind = "::1"; webPort = 3100; streamingPort = null; port = throw "the renamed alias is not read"; }`), { web: "http://[::1]:3100", streaming: "http://[::1]:3100" });
    assert.deepEqual(proxy(`{ socket = "/run/islet/web.socket"; }`), { web: "http://unix:/run/islet/web.socket", streaming: "http://unix:/run/islet/web.socket" });
  });

  test("the package: npmDeps from package-lock.json by importNpmLock, no hash to update", () => {
    const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { version?: string; integrity?: string; name?: string }> };
    const result = evaluate<{
      pname: string; version: string; npmDepsHash: string | null; npmFlags: string[]; npmConfigHook: string; nodejs: string; src: string;
      npmDeps: { name: string; lockfileVersion: number; fetches: Record<string, { url: string; hash: string } | null> };
    }>("import ./test/deploy/nix/eval-package.nix { }");
    assert.equal(result.pname, "islet");
    assert.equal(result.version, (JSON.parse(read("package.json")) as { version: string }).version);
    assert.equal(result.npmDepsHash, null, "no npmDepsHash to keep up to date");
    assert.equal(result.npmConfigHook, "importNpmLock.npmConfigHook");
    assert.equal(result.nodejs, "nodejs_24");
    assert.deepEqual(result.npmFlags, ["--ignore-scripts"]);
    assert.equal(result.src, ROOT);
    assert.equal(result.npmDeps.name, "islet-0.1.0-sources");
    const { fetches } = result.npmDeps;
    assert.deepEqual(Object.keys(fetches).sort(), Object.keys(lock.packages).sort());
    assert.equal(fetches[""], null, "the project itself is not fetched");
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === "") continue;
      const fetch = fetches[path];
      const name = entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
      const base = name.slice(name.lastIndexOf("/") + 1);
      assert.deepEqual(fetch, { url: `https://registry.npmjs.org/${name}/-/${base}-${entry.version}.tgz`, hash: entry.integrity }, path);
      assert.match(fetch!.hash, /^sha512-/, path);
    }
    // A scoped package nested under another, as the registry names its tarball.
    assert.equal(fetches["node_modules/@esbuild-kit/core-utils/node_modules/@esbuild/linux-x64"]?.url, "https://registry.npmjs.org/@esbuild/linux-x64/-/linux-x64-0.18.20.tgz");
    assert.doesNotMatch(read("deploy/nixos/package.nix"), /npmDepsHash|fakeHash/);
  });

  test("the package with the real nixpkgs functions", {
    skip: process.env.ISLET_NIXPKGS ? false : announceSkip("ISLET_NIXPKGS is not set: no nixpkgs checkout on this machine (the stand-in evaluation above runs instead)"),
  }, () => {
    const nixpkgs = process.env.ISLET_NIXPKGS!;
    const result = evaluate<{ name: string; deps: string }>(
      `let pkgs = import ${JSON.stringify(nixpkgs)} { }; drv = pkgs.callPackage ./deploy/nixos/package.nix { }; in { name = drv.name; deps = drv.npmDeps.name; }`,
    );
    assert.equal(result.name, "islet-0.1.0");
    assert.equal(result.deps, "islet-0.1.0-sources");
  });
});

// ---------------------------------------------------------------- examples

interface ExampleResult {
  islet: ModuleResult | null;
  containers: Record<string, {
    islet: ModuleResult | null;
    settings: { autoStart: boolean; privateNetwork: boolean; hostAddress: string | null; localAddress: string | null; forwardPorts: unknown[]; bindMounts: Record<string, { hostPath: string; isReadOnly: boolean }> };
  }>;
  nginxVirtualHosts: Record<string, VirtualHost>;
  nat: { enable: boolean; internalInterfaces: string[] } | null;
  acme: { acceptTerms: boolean; defaults: { email: string } } | null;
  sopsSecrets: string[];
}

function evalExample(name: string): ExampleResult {
  return evaluate<ExampleResult>(`import ./test/deploy/nix/eval-example.nix { example = ./deploy/nixos/examples/${name}; }`);
}

/** The lines of the `services.islet = { ... };` block in a file. */
function serviceLines(text: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => /^\s*services\.islet = \{$/.test(line));
  assert.ok(start >= 0, "a services.islet block");
  const indent = /^\s*/.exec(lines[start])![0];
  const end = lines.findIndex((line, i) => i > start && line === `${indent}};`);
  return lines.slice(start, end + 1);
}

/** Lines that are neither blank nor only a comment. */
function codeLines(text: string): number {
  return text.split("\n").filter((line) => line.trim() !== "" && !line.trim().startsWith("#")).length;
}

/**
 * The features of the Mastodon setup Islet replaces, in a container: the
 * apex domain with Let's Encrypt on the host's nginx, which reaches Islet
 * where it listens; Mailgun on port 465 with the password from a sops-nix
 * secret bind-mounted read-only; no failed assertion or warning.
 */
function assertSeedFeatures(result: ExampleResult): { islet: ModuleResult; settings: ExampleResult["containers"][string]["settings"] } {
  const container = result.containers.islet;
  assert.ok(container?.islet, "a container named islet with services.islet");
  const { islet, settings } = container;
  assert.deepEqual(islet.failedAssertions, []);
  assert.deepEqual(islet.warnings, []);
  assert.equal(settings.autoStart, true);
  const env = islet.environment;
  assert.equal(env.LOCAL_DOMAIN, "example.com");
  assert.equal(env.WEB_DOMAIN, undefined, "the apex domain serves everything");
  assert.equal(env.SMTP_SERVER, "smtp.eu.mailgun.org");
  assert.equal(env.SMTP_PORT, "465");
  assert.equal(env.SMTP_TLS, "true");
  assert.equal(env.SMTP_LOGIN, "postmaster@example.com");
  assert.deepEqual(islet.serviceConfig.LoadCredential, ["SMTP_PASSWORD:/run/secrets/islet-smtp-password"]);
  assert.deepEqual(settings.bindMounts, { "/run/secrets/islet-smtp-password": { hostPath: "/run/secrets/islet-smtp-password", isReadOnly: true } });
  assert.deepEqual(result.sopsSecrets, ["islet-smtp-password"], "sops-nix decrypts it to /run/secrets/islet-smtp-password");
  assert.match(islet.package, /-islet-0\.1\.0$/, "the flake's package");

  const vhost = result.nginxVirtualHosts["example.com"];
  assert.ok(vhost, "the host's nginx serves the apex domain");
  assert.equal(vhost.enableACME, true);
  assert.equal(vhost.forceSSL, true);
  const where = `http://${env.BIND === "0.0.0.0" ? "127.0.0.1" : env.BIND}:${env.PORT}`;
  assert.equal(vhost.locations["/"].proxyPass, where);
  assert.equal(vhost.locations["/api/v1/streaming"].proxyPass, where);
  assert.equal(result.acme?.acceptTerms, true);
  return { islet, settings };
}

describe("NixOS examples", { skip: skipUnless("nix-instantiate") }, () => {
  test("host.nix: Islet, nginx and PostgreSQL on the host", () => {
    const result = evalExample("host.nix");
    assert.ok(result.islet);
    assert.deepEqual(result.islet.failedAssertions, []);
    assert.deepEqual(result.islet.warnings, []);
    assert.equal(result.islet.environment.SMTP_PORT, "465");
    assert.equal(result.islet.environment.DATABASE_URL, "postgres:///islet");
    assert.ok(result.islet.nginxVirtualHosts["example.com"]);
    assert.deepEqual(result.islet.firewall, [80, 443]);
    assert.ok(serviceLines(read("deploy/nixos/examples/host.nix")).length <= 25);
  });

  test("container.nix, the Mastodon setup Islet replaces: shared network, PostgreSQL on port 5433", (t) => {
    const result = evalExample("container.nix");
    const { islet, settings } = assertSeedFeatures(result);
    assert.equal(settings.privateNetwork, false);
    assert.equal(islet.environment.BIND, "127.0.0.1");
    assert.equal(islet.environment.PGPORT, "5433");
    assert.equal(islet.environment.DATABASE_URL, "postgres:///islet");
    assert.equal(islet.postgresql?.settings?.port, 5433, "the container's PostgreSQL leaves 5432 to the host's");
    const text = read("deploy/nixos/examples/container.nix");
    const block = serviceLines(text);
    assert.ok(block.length <= 25, `services.islet takes ${block.length} lines`);
    t.diagnostic(`container.nix: ${codeLines(text)} lines of Nix besides comments (services.islet: ${block.length})`);
  });

  test("private-network.nix: privateNetwork, the embedded database, nginx to the container's address", () => {
    const result = evalExample("private-network.nix");
    const { islet, settings } = assertSeedFeatures(result);
    assert.equal(settings.privateNetwork, true);
    assert.equal(islet.environment.BIND, settings.localAddress);
    assert.equal(islet.environment.TRUSTED_PROXY_IP, settings.hostAddress, "nginx connects from the host's end");
    assert.deepEqual(islet.firewall, [3000], "the container's firewall lets the host in");
    assert.equal(islet.environment.DATABASE_URL, undefined, "the embedded database");
    assert.equal(islet.postgresql, null);
    assert.deepEqual(settings.forwardPorts, [], "nothing published on the host's addresses");
    assert.deepEqual(result.nat, { enable: true, internalInterfaces: ["ve-islet"] });
    assert.ok(serviceLines(read("deploy/nixos/examples/private-network.nix")).length <= 25);
  });
});
