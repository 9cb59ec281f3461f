/**
 * RSA-2048 with PKCS #1 v1.5 padding and SHA-256, as HTTP Signatures use,
 * on one thread: signatures and verifications per second, about two seconds
 * each. Measured twice: synchronous node:crypto, and WebCrypto (what Fedify
 * calls) awaited one operation at a time, which adds the cost of handing
 * each operation to libuv's thread pool and back.
 */
import { constants, generateKeyPairSync, sign, verify, webcrypto, type KeyObject } from "node:crypto";
import type { MachineBench, Recorder } from "../lib/types.ts";

const SECONDS = 2;

/** A signing string shaped like a Fedify POST to an inbox. */
const SIGNING_STRING = [
  "(request-target): post /users/alice/inbox",
  "host: remote.example",
  `date: ${new Date().toUTCString()}`,
  "digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
  "content-type: application/activity+json",
].join("\n");

/** Calls `op` until `seconds` have passed; operations per second. */
async function rate(op: () => unknown, seconds: number): Promise<{ perSecond: number; count: number }> {
  let count = 0;
  const begin = performance.now();
  const until = begin + seconds * 1000;
  let now = begin;
  while (now < until) {
    for (let i = 0; i < 5; i++) {
      const result = op();
      if (result instanceof Promise) await result;
    }
    count += 5;
    now = performance.now();
  }
  return { perSecond: count / ((now - begin) / 1000), count };
}

function record(recorder: Recorder, id: string, row: string, result: { perSecond: number; count: number }, how: string): void {
  recorder.record({ id, row, value: result.perSecond, unit: "ops/s", how: `${how}; ${result.count} ops in ~${SECONDS} s` });
  recorder.progress(`  ${row}: ${result.perSecond.toFixed(0)} ops/s`);
}

export const rsa: MachineBench = {
  kind: "machine",
  name: "RSA-2048",
  async run(recorder) {
    const data = Buffer.from(SIGNING_STRING);
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 65537 });
    const options = (key: KeyObject) => ({ key, padding: constants.RSA_PKCS1_PADDING });
    const signature = sign("sha256", data, options(privateKey));
    if (!verify("sha256", data, options(publicKey), signature)) throw new Error("node:crypto: a fresh signature does not verify");

    record(recorder, "rsa.node.sign", "RSA-2048 sign, node:crypto", await rate(() => sign("sha256", data, options(privateKey)), SECONDS), "crypto.sign('sha256'), PKCS#1 v1.5, sync loop");
    record(recorder, "rsa.node.verify", "RSA-2048 verify, node:crypto", await rate(() => verify("sha256", data, options(publicKey), signature), SECONDS), "crypto.verify('sha256'), PKCS#1 v1.5, sync loop");

    const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
    const subtle = webcrypto.subtle;
    const cryptoPrivate = privateKey.toCryptoKey(algorithm, false, ["sign"]);
    const cryptoPublic = publicKey.toCryptoKey(algorithm, false, ["verify"]);
    const webSignature = await subtle.sign(algorithm, cryptoPrivate, data);
    if (!await subtle.verify(algorithm, cryptoPublic, webSignature, data)) throw new Error("WebCrypto: a fresh signature does not verify");

    record(recorder, "rsa.web.sign", "RSA-2048 sign, WebCrypto", await rate(() => subtle.sign(algorithm, cryptoPrivate, data), SECONDS), "subtle.sign RSASSA-PKCS1-v1_5, one awaited at a time");
    record(recorder, "rsa.web.verify", "RSA-2048 verify, WebCrypto", await rate(() => subtle.verify(algorithm, cryptoPublic, webSignature, data), SECONDS), "subtle.verify RSASSA-PKCS1-v1_5, one awaited at a time");
  },
};
