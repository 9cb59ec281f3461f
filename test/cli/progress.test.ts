/**
 * The progress display of long admin commands: a bar redrawn in place on a
 * terminal, one plain closing line anywhere else.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, test } from "node:test";
import { formatBytes, startProgress } from "../../src/cli/progress.ts";

/** A stream that keeps what is written, and says whether it is a terminal. */
function sink(isTTY: boolean): Writable & { isTTY: boolean; columns: number; text(): string } {
  let text = "";
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  }) as Writable & { isTTY: boolean; columns: number; text(): string };
  stream.isTTY = isTTY;
  stream.columns = 100;
  stream.text = () => text;
  return stream;
}

describe("progress", () => {
  test("off a terminal only the closing line is written", () => {
    const stream = sink(false);
    const progress = startProgress({ label: "Copying", total: 10, stream });
    for (let i = 0; i < 10; i++) progress.advance();
    assert.equal(stream.text(), "");
    progress.done();
    assert.equal(stream.text(), "Copying: done, 10\n");
    progress.done("again");
    assert.equal(stream.text(), "Copying: done, 10\n");
  });

  test("a failure off a terminal writes nothing", () => {
    const stream = sink(false);
    const progress = startProgress({ label: "Copying", stream });
    progress.advance(3);
    progress.stop();
    assert.equal(stream.text(), "");
  });

  test("on a terminal a bar is drawn in place, then replaced by the closing line", () => {
    const stream = sink(true);
    const progress = startProgress({ label: "Writing", total: 2048, unit: "bytes", stream });
    assert.equal(stream.text(), "\r\x1b[2KWriting [........................]   0% 0 B/2.0 KiB");
    progress.setTotal(4096);
    progress.advance(1024);
    progress.done("4.0 KiB written");
    const text = stream.text();
    assert.match(text, /\r\x1b\[2KWriting \[\.+\]   0% 0 B\/4\.0 KiB/);
    assert.ok(text.endsWith("\r\x1b[2KWriting: 4.0 KiB written\n"), JSON.stringify(text));
  });

  test("a bar cleared on failure leaves the line empty", () => {
    const stream = sink(true);
    const progress = startProgress({ label: "Loading", total: 4, stream });
    progress.stop();
    assert.ok(stream.text().endsWith("\r\x1b[2K"));
  });

  test("bytes read as a person reads them", () => {
    assert.equal(formatBytes(0), "0 B");
    assert.equal(formatBytes(1023), "1023 B");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(5 * 1024 * 1024), "5.0 MiB");
  });
});
