/**
 * The items of an archive's OrderedCollection (outbox.json, likes.json,
 * bookmarks.json), read from disk one at a time: the file is scanned as it
 * streams in, and only the item being read is held and parsed, so a
 * 100 MB outbox takes the memory of its largest post, not of the file.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";

/** One item is refused past this size: no post comes near it. */
export const MAX_ITEM_BYTES = 16 * 1024 * 1024;

export class CollectionReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CollectionReadError";
  }
}

export interface CollectionItem {
  item: unknown;
  /** Bytes of the file read so far (for progress). */
  bytesRead: number;
}

/**
 * Yields each element of the root object's `orderedItems` (or `items`)
 * array, parsed. Throws CollectionReadError when the file is not such a
 * collection or an item is not JSON.
 */
export async function* readCollectionItems(path: string): AsyncGenerator<CollectionItem> {
  const size = (await stat(path)).size;
  const stream = createReadStream(path, { encoding: "utf8", highWaterMark: 256 * 1024 });
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** The last string closed at depth 1 (a key of the root object), while short. */
  let key = "";
  let keyParts: string[] | null = null;
  let phase: "seek" | "items" | "done" = "seek";
  let item: string[] | null = null;
  let itemLength = 0;
  /** Whether the item being read is a bare string (likes.json holds IRIs). */
  let itemIsString = false;
  let bytesRead = 0;
  let sawRoot = false;

  for await (const chunk of stream as AsyncIterable<string>) {
    bytesRead += Buffer.byteLength(chunk);
    if (phase === "done") continue;
    let start = item != null ? 0 : -1;
    const finished: unknown[] = [];
    const finishItem = (end: number) => {
      item!.push(chunk.slice(start, end));
      const text = item!.join("");
      item = null;
      itemLength = 0;
      start = -1;
      try {
        finished.push(JSON.parse(text));
      } catch {
        throw new CollectionReadError(`an item of ${path} is not JSON`);
      }
    };
    for (let i = 0; i < chunk.length; i++) {
      const char = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (char === "\\") escaped = true;
        else if (char === '"') {
          inString = false;
          if (keyParts != null) {
            keyParts.push(chunk.slice(0, i));
            key = keyParts.join("");
            keyParts = null;
          }
          if (item != null && itemIsString && depth === 2) finishItem(i + 1);
        }
        continue;
      }
      if (char === '"') {
        inString = true;
        if (phase === "seek" && depth === 1) {
          // A key of the root object: remember it.
          const close = findStringEnd(chunk, i + 1);
          if (close >= 0) {
            key = chunk.slice(i + 1, close);
            keyParts = null;
            inString = false;
            i = close;
            continue;
          }
          // The rest of the chunk is the key's beginning; its end comes with the next chunk.
          keyParts = [chunk.slice(i + 1)];
          i = chunk.length;
          continue;
        }
        if (phase === "items" && depth === 2 && item == null) {
          item = [];
          itemIsString = true;
          start = i;
        }
        continue;
      }
      if (char === "{" || char === "[") {
        if (depth === 0) {
          if (char !== "{") throw new CollectionReadError(`${path} is not a JSON object`);
          sawRoot = true;
        }
        if (phase === "seek" && depth === 1 && char === "[" && (key === "orderedItems" || key === "items")) {
          phase = "items";
          depth++;
          continue;
        }
        if (phase === "items" && depth === 2 && item == null) {
          item = [];
          itemIsString = false;
          start = i;
        }
        depth++;
        continue;
      }
      if (char === "}" || char === "]") {
        depth--;
        if (phase === "items") {
          if (depth === 1) {
            phase = "done";
            break;
          }
          if (depth === 2 && item != null && !itemIsString) finishItem(i + 1);
        }
        continue;
      }
      if (phase === "items" && depth === 2 && item == null && !/[\s,]/.test(char)) {
        throw new CollectionReadError(`${path} holds an item that is neither an object nor an IRI`);
      }
    }
    if (item != null && start >= 0) {
      const rest = chunk.slice(start);
      item.push(rest);
      itemLength += rest.length;
      if (itemLength > MAX_ITEM_BYTES) throw new CollectionReadError(`an item of ${path} is larger than ${MAX_ITEM_BYTES} bytes`);
    }
    for (const value of finished) yield { item: value, bytesRead: Math.min(bytesRead, size) };
  }
  if (!sawRoot || phase === "seek") throw new CollectionReadError(`${path} is not an ActivityPub collection (no orderedItems)`);
}

/** The index of the quote closing a string that starts at `from`, or -1 if it does not end in this chunk. */
function findStringEnd(text: string, from: number): number {
  let escaped = false;
  for (let i = from; i < text.length; i++) {
    const char = text[i]!;
    if (escaped) escaped = false;
    else if (char === "\\") escaped = true;
    else if (char === '"') return i;
  }
  return -1;
}
