// A small zip reader for the X archive, in the browser: nothing leaves the
// machine while reading. Reads the central directory with File.slice (ZIP64
// included, for multi-GB archives) and inflates one entry at a time with the
// browser's own DecompressionStream('deflate-raw'). No dependency.
"use strict";

const HirondelleZip = (() => {
  const EOCD = 0x06054b50;
  const ZIP64_LOCATOR = 0x07064b50;
  const ZIP64_EOCD = 0x06064b50;
  const CENTRAL = 0x02014b50;
  const LOCAL = 0x04034b50;

  async function readBytes(file, start, length) {
    const buf = await file.slice(start, start + length).arrayBuffer();
    return new DataView(buf);
  }

  function u64(view, at) {
    // Exact up to 2^53, far beyond any archive.
    return view.getUint32(at, true) + view.getUint32(at + 4, true) * 0x100000000;
  }

  async function findEnd(file) {
    const tail = Math.min(file.size, 22 + 65535 + 20);
    const start = file.size - tail;
    const view = await readBytes(file, start, tail);
    for (let i = tail - 22; i >= 0; i--) {
      if (view.getUint32(i, true) !== EOCD) continue;
      let entries = view.getUint16(i + 10, true);
      let size = view.getUint32(i + 12, true);
      let offset = view.getUint32(i + 16, true);
      const needs64 = entries === 0xffff || size === 0xffffffff || offset === 0xffffffff;
      if (i >= 20 && view.getUint32(i - 20, true) === ZIP64_LOCATOR) {
        const at = u64(view, i - 20 + 8);
        const z = await readBytes(file, at, 56);
        if (z.getUint32(0, true) !== ZIP64_EOCD) throw new Error("broken ZIP64 record");
        entries = u64(z, 32);
        size = u64(z, 40);
        offset = u64(z, 48);
      } else if (needs64) {
        throw new Error("ZIP64 record missing");
      }
      return { entries, size, offset };
    }
    throw new Error("not a zip file");
  }

  function parseZip64Extra(view, at, length, entry, want) {
    let p = at;
    const end = at + length;
    while (p + 4 <= end) {
      const id = view.getUint16(p, true);
      const len = view.getUint16(p + 2, true);
      if (id === 0x0001) {
        let q = p + 4;
        if (want.uncompressed) { entry.size = u64(view, q); q += 8; }
        if (want.compressed) { entry.compressedSize = u64(view, q); q += 8; }
        if (want.offset) { entry.localOffset = u64(view, q); q += 8; }
        return;
      }
      p += 4 + len;
    }
  }

  async function list(file) {
    const end = await findEnd(file);
    const view = await readBytes(file, end.offset, end.size);
    const utf8 = new TextDecoder("utf-8");
    const entries = [];
    let p = 0;
    for (let n = 0; n < end.entries && p + 46 <= view.byteLength; n++) {
      if (view.getUint32(p, true) !== CENTRAL) throw new Error("broken central directory");
      const nameLength = view.getUint16(p + 28, true);
      const extraLength = view.getUint16(p + 30, true);
      const commentLength = view.getUint16(p + 32, true);
      const name = utf8.decode(new Uint8Array(view.buffer, view.byteOffset + p + 46, nameLength));
      const entry = {
        name,
        method: view.getUint16(p + 10, true),
        compressedSize: view.getUint32(p + 20, true),
        size: view.getUint32(p + 24, true),
        localOffset: view.getUint32(p + 42, true),
      };
      const want = {
        uncompressed: entry.size === 0xffffffff,
        compressed: entry.compressedSize === 0xffffffff,
        offset: entry.localOffset === 0xffffffff,
      };
      if (want.uncompressed || want.compressed || want.offset) {
        parseZip64Extra(view, p + 46 + nameLength, extraLength, entry, want);
      }
      if (!name.endsWith("/")) entries.push(entry);
      p += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  }

  // A ReadableStream of the entry's uncompressed bytes.
  async function open(file, entry) {
    const head = await readBytes(file, entry.localOffset, 30);
    if (head.getUint32(0, true) !== LOCAL) throw new Error("broken entry " + entry.name);
    const start = entry.localOffset + 30 + head.getUint16(26, true) + head.getUint16(28, true);
    const raw = file.slice(start, start + entry.compressedSize).stream();
    if (entry.method === 0) return raw;
    if (entry.method === 8) return raw.pipeThrough(new DecompressionStream("deflate-raw"));
    throw new Error("unsupported compression in " + entry.name);
  }

  // Yield Uint8Array chunks of exactly `size` bytes (the last one shorter),
  // skipping the first `skip` bytes: a resumed upload starts mid-file.
  async function* chunks(file, entry, size, skip) {
    const reader = (await open(file, entry)).getReader();
    let pending = [];
    let pendingBytes = 0;
    let position = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let piece = value;
      if (position + piece.length <= skip) { position += piece.length; continue; }
      if (position < skip) { piece = piece.subarray(skip - position); position = skip; }
      position += piece.length;
      pending.push(piece);
      pendingBytes += piece.length;
      while (pendingBytes >= size) {
        const out = new Uint8Array(size);
        let filled = 0;
        while (filled < size) {
          const head = pending[0];
          const take = Math.min(head.length, size - filled);
          out.set(head.subarray(0, take), filled);
          filled += take;
          if (take === head.length) pending.shift(); else pending[0] = head.subarray(take);
        }
        pendingBytes -= size;
        yield out;
      }
    }
    if (pendingBytes > 0) {
      const out = new Uint8Array(pendingBytes);
      let filled = 0;
      for (const piece of pending) { out.set(piece, filled); filled += piece.length; }
      yield out;
    }
  }

  return { list, open, chunks };
})();
