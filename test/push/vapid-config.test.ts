/**
 * The VAPID key pair in the configuration: VAPID_PRIVATE_KEY and
 * VAPID_PUBLIC_KEY from the environment, files or systemd credentials (both
 * or neither), checked to belong together; otherwise one pair made under
 * DATA_DIR (mode 0600) and kept, the same for every process started on that
 * DATA_DIR, even several at once; masked in `islet config`'s description.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createECDH, createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ConfigError, describeConfig, loadConfig, type Config } from "../../src/config.ts";
import { vapidPublicKey } from "../../src/push/vapid.ts";
import { ROOT } from "../helpers/cli.ts";

const roots: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "islet-vapid-test-"));
  roots.push(dir);
  return dir;
}

after(() => {
  for (const dir of roots) rmSync(dir, { recursive: true, force: true });
});

function load(env: Record<string, string | undefined> = {}): Config {
  return loadConfig(env, { cwd: tempDir() });
}

/** A pair as Mastodon's `rake mastodon:webpush:generate_vapid_key` prints it: padded urlsafe base64. */
function mastodonPair() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const scalar = ecdh.getPrivateKey();
  const privateBytes = Buffer.concat([Buffer.alloc(32 - scalar.length), scalar]);
  const padded = (bytes: Buffer) => bytes.toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
  return {
    privateKey: padded(privateBytes),
    publicKey: padded(ecdh.getPublicKey()),
    plain: { privateKey: privateBytes.toString("base64url"), publicKey: ecdh.getPublicKey().toString("base64url") },
  };
}

/** Whether the private key signs what the public key verifies. */
function pairWorks(keys: { privateKey: string; publicKey: string }): boolean {
  const point = Buffer.from(keys.publicKey, "base64url");
  const jwk = { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url") };
  const privateKey = createPrivateKey({ key: { ...jwk, d: keys.privateKey }, format: "jwk" });
  const publicKey = createPublicKey({ key: jwk, format: "jwk" });
  const signature = sign("sha256", Buffer.from("islet"), privateKey);
  return verify("sha256", Buffer.from("islet"), publicKey, signature);
}

function refused(env: Record<string, string | undefined>, variable: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    load(env);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.variable, variable);
  assert.match(caught.message, pattern);
}

describe("VAPID keys in the configuration", () => {
  test("made once under DATA_DIR (0600) when unset, and the same on the next start", () => {
    const dataDir = join(tempDir(), "data");
    const first = load({ DATA_DIR: dataDir });
    const path = join(dataDir, "vapid_keys");
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(Buffer.from(first.vapid.privateKey, "base64url").length, 32);
    assert.equal(Buffer.from(first.vapid.publicKey, "base64url").length, 65);
    assert.doesNotMatch(first.vapid.publicKey, /[=+/]/, "unpadded base64url");
    assert.ok(pairWorks(first.vapid), "the two keys belong together");
    const text = readFileSync(path, "utf8");
    assert.match(text, new RegExp(`^VAPID_PRIVATE_KEY=${first.vapid.privateKey}$`, "m"));
    assert.match(text, new RegExp(`^VAPID_PUBLIC_KEY=${first.vapid.publicKey}$`, "m"));
    assert.equal(vapidPublicKey(first), first.vapid.publicKey);

    const second = load({ DATA_DIR: dataDir });
    assert.deepEqual(second.vapid, first.vapid);
    assert.notDeepEqual(load({}).vapid, first.vapid, "another DATA_DIR, another pair");
  });

  test("processes starting together on a new DATA_DIR agree on one pair", async () => {
    const dataDir = join(tempDir(), "shared");
    const script = `import { loadConfig } from ${JSON.stringify(join(ROOT, "src", "config.ts"))};
process.stdout.write(loadConfig({ DATA_DIR: ${JSON.stringify(dataDir)} }).vapid.publicKey);`;
    const run = () => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
    });
    const keys = await Promise.all([run(), run(), run(), run()]);
    assert.equal(new Set(keys).size, 1, keys.join("\n"));
    assert.equal(load({ DATA_DIR: dataDir }).vapid.publicKey, keys[0]);
  });

  test("taken from the environment, padded as Mastodon writes them; nothing is written", () => {
    const pair = mastodonPair();
    const dataDir = join(tempDir(), "data");
    const config = load({ DATA_DIR: dataDir, VAPID_PRIVATE_KEY: pair.privateKey, VAPID_PUBLIC_KEY: pair.publicKey });
    assert.deepEqual(config.vapid, pair.plain);
    assert.throws(() => statSync(join(dataDir, "vapid_keys")), /ENOENT/);
    assert.equal(config.sources.VAPID_PRIVATE_KEY, "VAPID_PRIVATE_KEY");
  });

  test("from _FILE paths and from $CREDENTIALS_DIRECTORY", () => {
    const pair = mastodonPair();
    const dir = tempDir();
    writeFileSync(join(dir, "private"), `${pair.privateKey}\n`);
    writeFileSync(join(dir, "public"), `${pair.publicKey}\n`);
    const fromFiles = load({ VAPID_PRIVATE_KEY_FILE: join(dir, "private"), VAPID_PUBLIC_KEY_FILE: join(dir, "public") });
    assert.deepEqual(fromFiles.vapid, pair.plain);
    assert.equal(fromFiles.sources.VAPID_PRIVATE_KEY, "VAPID_PRIVATE_KEY_FILE");

    const credentials = join(dir, "credentials");
    mkdirSync(credentials);
    writeFileSync(join(credentials, "VAPID_PRIVATE_KEY"), pair.privateKey);
    // The public key may simply be set: it is no secret.
    const mixed = load({ CREDENTIALS_DIRECTORY: credentials, VAPID_PUBLIC_KEY: pair.publicKey });
    assert.deepEqual(mixed.vapid, pair.plain);
    assert.equal(mixed.sources.VAPID_PRIVATE_KEY, "$CREDENTIALS_DIRECTORY/VAPID_PRIVATE_KEY");
  });

  test("both or neither; a key that is not one, or not of the pair, is refused by name", () => {
    const pair = mastodonPair();
    const other = mastodonPair();
    refused({ VAPID_PRIVATE_KEY: pair.privateKey }, "VAPID_PUBLIC_KEY", /not set but VAPID_PRIVATE_KEY is/);
    refused({ VAPID_PUBLIC_KEY: pair.publicKey }, "VAPID_PRIVATE_KEY", /not set but VAPID_PUBLIC_KEY is/);
    refused({ VAPID_PRIVATE_KEY: pair.privateKey, VAPID_PUBLIC_KEY: other.publicKey }, "VAPID_PUBLIC_KEY", /not the public key of VAPID_PRIVATE_KEY/);
    refused({ VAPID_PRIVATE_KEY: "short", VAPID_PUBLIC_KEY: pair.publicKey }, "VAPID_PRIVATE_KEY", /32 bytes/);
    refused({ VAPID_PRIVATE_KEY: pair.privateKey, VAPID_PUBLIC_KEY: pair.privateKey }, "VAPID_PUBLIC_KEY", /65 bytes/);
    refused({ VAPID_PRIVATE_KEY: Buffer.alloc(32).toString("base64url"), VAPID_PUBLIC_KEY: pair.publicKey }, "VAPID_PRIVATE_KEY", /P-256/);
  });

  test("a damaged key file stops start-up and says what to do", () => {
    const dataDir = join(tempDir(), "data");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "vapid_keys"), "VAPID_PRIVATE_KEY=abc\n", { mode: 0o600 });
    refused({ DATA_DIR: dataDir }, "DATA_DIR", /vapid_keys does not hold a VAPID key pair; remove it/);
  });

  test("islet config shows where they came from, never their values", () => {
    const generated = load({});
    const text = describeConfig(generated).join("\n");
    assert.ok(!text.includes(generated.vapid.privateKey), "the private key is not shown");
    assert.match(text, /^VAPID_PRIVATE_KEY=\*\*\*\* \(from .*vapid_keys \(generated\)\)$/m);
    assert.match(text, /^VAPID_PUBLIC_KEY=\*\*\*\* \(from .*vapid_keys/m);

    const pair = mastodonPair();
    const fromEnv = describeConfig(load({ VAPID_PRIVATE_KEY: pair.privateKey, VAPID_PUBLIC_KEY: pair.publicKey })).join("\n");
    assert.ok(!fromEnv.includes(pair.plain.privateKey) && !fromEnv.includes(pair.privateKey));
    assert.match(fromEnv, /^VAPID_PRIVATE_KEY=\*\*\*\* \(from VAPID_PRIVATE_KEY\)$/m);
    assert.match(fromEnv, /^VAPID_PUBLIC_KEY=\*\*\*\* \(from VAPID_PUBLIC_KEY\)$/m);
  });
});
