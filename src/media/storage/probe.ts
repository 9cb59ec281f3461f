/**
 * The media store's own check (`islet doctor`): write, read back and delete
 * a small probe object, and see whether its public URL serves it.
 */
import { randomBytes } from "node:crypto";
import type { MediaStorage } from "./media-storage.ts";

export interface StorageProbe {
  /** Write, read and delete worked. */
  ok: boolean;
  detail: string;
  /** The public URL's answer, when looked at (null when it was not). */
  publicStatus: number | "unreachable" | null;
  publicUrl: string | null;
}

export async function probeStorage(store: MediaStorage, options: { checkPublicUrl?: boolean } = {}): Promise<StorageProbe> {
  const key = `doctor/probe-${randomBytes(8).toString("hex")}.txt`;
  const body = Buffer.from(`islet doctor ${new Date().toISOString()}\n`);
  let step = "write";
  try {
    await store.put(key, body, { contentType: "text/plain" });
    step = "read back";
    const read = await store.get(key);
    if (read == null) return { ok: false, detail: `${store.location}: the probe object ${key} was written but cannot be read back`, publicStatus: null, publicUrl: null };
    const chunks: Buffer[] = [];
    for await (const chunk of read.body) chunks.push(Buffer.from(chunk as Uint8Array));
    if (!Buffer.concat(chunks).equals(body)) return { ok: false, detail: `${store.location}: the probe object ${key} reads back different bytes`, publicStatus: null, publicUrl: null };
    let publicStatus: StorageProbe["publicStatus"] = null;
    const publicUrl = options.checkPublicUrl ? store.url(key) : null;
    if (publicUrl != null) {
      try {
        const response = await fetch(publicUrl, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        publicStatus = response.status;
      } catch {
        publicStatus = "unreachable";
      }
    }
    step = "delete";
    await store.delete([key]);
    if (await store.exists(key)) return { ok: false, detail: `${store.location}: the probe object ${key} is still there after deleting it`, publicStatus, publicUrl };
    return { ok: true, detail: `${store.location}: wrote, read back and deleted a probe object`, publicStatus, publicUrl };
  } catch (error) {
    await store.delete([key]).catch(() => {});
    return { ok: false, detail: `could not ${step} a probe object: ${(error as Error).message}`, publicStatus: null, publicUrl: null };
  }
}
