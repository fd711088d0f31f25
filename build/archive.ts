/**
 * In-memory archive writers for the release build: `.tar.gz` (ustar + gzip) and `.zip`, with
 * no external tool, so `npm run build` produces the same archives on any build host.
 *
 * Both keep Unix file modes, so the binary comes out executable after `tar -xzf` or `unzip`.
 * Entries are written in the order given; a directory entry should come before its files.
 *
 * Neither format is written in full generality: names must fit the plain header fields
 * (100 bytes for tar, no long-name extension) and zip entries must stay under 4 GiB (no
 * zip64). The writers throw rather than produce an archive some tool would misread.
 */

import { crc32, deflateRawSync, gzipSync } from "node:zlib";

export type ArchiveEntry =
  /** `path` without a trailing slash; the writers add it. */
  | { type: "directory"; path: string; mode: number }
  | { type: "file"; path: string; mode: number; data: Uint8Array };

// ---------------------------------------------------------------------------------------------
// tar.gz
// ---------------------------------------------------------------------------------------------

const TAR_BLOCK = 512;

/** A POSIX ustar archive of `entries`, gzip-compressed. Every entry gets `mtime`. */
export function tarGz(entries: readonly ArchiveEntry[], mtime: Date): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    const data = entry.type === "file" ? entry.data : new Uint8Array(0);
    parts.push(tarHeader(entry, data.length, mtime));
    parts.push(data);
    const padding = (TAR_BLOCK - (data.length % TAR_BLOCK)) % TAR_BLOCK;
    parts.push(new Uint8Array(padding));
  }
  // The end of a tar archive is two zero blocks.
  parts.push(new Uint8Array(TAR_BLOCK * 2));
  return gzipSync(concat(parts));
}

/**
 * The 512-byte ustar header. Numeric fields are zero-padded octal ending in NUL; the checksum
 * is the byte sum of the header with its own field read as eight spaces.
 *
 *   offset size field          value written
 *        0  100 name           path (+ "/" for a directory)
 *      100    8 mode           entry.mode, e.g. 0000755
 *      108    8 uid            0
 *      116    8 gid            0
 *      124   12 size           data length (0 for a directory)
 *      136   12 mtime          seconds since 1970
 *      148    8 chksum         6 octal digits, NUL, space
 *      156    1 typeflag       "0" file, "5" directory
 *      257    6 magic          "ustar\0"
 *      263    2 version        "00"
 * Everything else (linkname, uname, gname, devmajor, devminor, prefix) stays zero: extracting
 * tools then use the current user as owner.
 */
function tarHeader(entry: ArchiveEntry, size: number, mtime: Date): Uint8Array {
  const header = new Uint8Array(TAR_BLOCK);
  const name = entry.type === "directory" ? `${entry.path}/` : entry.path;
  writeAscii(header, 0, 100, name);
  writeOctal(header, 100, 8, entry.mode);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, Math.floor(mtime.getTime() / 1000));
  header.fill(0x20, 148, 156);
  writeAscii(header, 156, 1, entry.type === "directory" ? "5" : "0");
  writeAscii(header, 257, 6, "ustar\0");
  writeAscii(header, 263, 2, "00");
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  writeAscii(header, 148, 8, `${checksum.toString(8).padStart(6, "0")}\0 `);
  return header;
}

function writeAscii(target: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > length) throw new Error(`archive: "${text}" does not fit a ${length}-byte tar field`);
  target.set(bytes, offset);
}

/** `length - 1` octal digits and a NUL. */
function writeOctal(target: Uint8Array, offset: number, length: number, value: number): void {
  writeAscii(target, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

// ---------------------------------------------------------------------------------------------
// zip
// ---------------------------------------------------------------------------------------------

const ZIP_STORE = 0;
const ZIP_DEFLATE = 8;
/** Host system "Unix" (3) in the high byte, so unzip honours the mode in the external attributes; spec 2.0. */
const ZIP_MADE_BY_UNIX = (3 << 8) | 20;
/** Spec version needed to extract: 2.0 covers deflate and directory entries. */
const ZIP_NEEDED = 20;
/** MS-DOS directory attribute, the low byte of the external attributes. */
const DOS_DIRECTORY = 0x10;
const ZIP_LIMIT = 0xffff_ffff;

interface ZipRecord {
  name: Uint8Array;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  externalAttributes: number;
  localHeaderOffset: number;
}

/**
 * A zip archive of `entries`. Each file is deflated, or stored when deflate would not make it
 * smaller. Layout: for each entry a local file header and its data, then the central
 * directory (one header per entry), then the end-of-central-directory record.
 */
export function zip(entries: readonly ArchiveEntry[], mtime: Date): Uint8Array {
  const parts: Uint8Array[] = [];
  const records: ZipRecord[] = [];
  let offset = 0;
  const { time, date } = dosDateTime(mtime);
  for (const entry of entries) {
    const { record, data } = zipRecord(entry, offset);
    const local = zipLocalHeader(record, time, date);
    parts.push(local, data);
    records.push(record);
    offset += local.length + data.length;
  }
  const directory = records.map((record) => zipCentralHeader(record, time, date));
  const directorySize = directory.reduce((sum, header) => sum + header.length, 0);
  if (offset + directorySize > ZIP_LIMIT || records.length > 0xffff) throw new Error("archive: zip too large without zip64");
  parts.push(...directory, zipEndOfDirectory(records.length, directorySize, offset));
  return concat(parts);
}

function zipRecord(entry: ArchiveEntry, localHeaderOffset: number): { record: ZipRecord; data: Uint8Array } {
  const name = new TextEncoder().encode(entry.type === "directory" ? `${entry.path}/` : entry.path);
  // The Unix mode, file type bits included, sits in the high 16 bits of the external attributes.
  const unixMode = (entry.type === "directory" ? 0o040000 : 0o100000) | entry.mode;
  const externalAttributes = ((unixMode << 16) | (entry.type === "directory" ? DOS_DIRECTORY : 0)) >>> 0;
  const raw = entry.type === "file" ? entry.data : new Uint8Array(0);
  if (raw.length > ZIP_LIMIT) throw new Error(`archive: ${entry.path} is too large for a zip without zip64`);
  const deflated = raw.length > 0 ? deflateRawSync(raw) : raw;
  const data = deflated.length < raw.length ? deflated : raw;
  const record: ZipRecord = {
    name,
    method: data === raw ? ZIP_STORE : ZIP_DEFLATE,
    crc: crc32(raw),
    compressedSize: data.length,
    size: raw.length,
    externalAttributes,
    localHeaderOffset,
  };
  return { record, data };
}

/**
 *   offset size field
 *        0    4 signature 0x04034b50
 *        4    2 version needed (20)
 *        6   24 flags … extra field length (writeSharedFields)
 *       30      name
 */
function zipLocalHeader(record: ZipRecord, time: number, date: number): Uint8Array {
  const header = new Uint8Array(30 + record.name.length);
  const view = new DataView(header.buffer);
  view.setUint32(0, 0x04034b50, true);
  view.setUint16(4, ZIP_NEEDED, true);
  writeSharedFields(view, 6, record, time, date);
  header.set(record.name, 30);
  return header;
}

/**
 *   offset size field
 *        0    4 signature 0x02014b50
 *        4    2 version made by (0x0314: Unix, 2.0)
 *        6    2 version needed (20)
 *        8   24 flags … extra field length (writeSharedFields)
 *       32    2 comment length (0)
 *       34    2 disk number start (0),  36  2 internal attributes (0)
 *       38    4 external attributes (Unix mode << 16 | DOS attributes)
 *       42    4 offset of the local header
 *       46      name
 */
function zipCentralHeader(record: ZipRecord, time: number, date: number): Uint8Array {
  const header = new Uint8Array(46 + record.name.length);
  const view = new DataView(header.buffer);
  view.setUint32(0, 0x02014b50, true);
  view.setUint16(4, ZIP_MADE_BY_UNIX, true);
  view.setUint16(6, ZIP_NEEDED, true);
  writeSharedFields(view, 8, record, time, date);
  view.setUint16(32, 0, true);
  view.setUint16(34, 0, true);
  view.setUint16(36, 0, true);
  view.setUint32(38, record.externalAttributes, true);
  view.setUint32(42, record.localHeaderOffset, true);
  header.set(record.name, 46);
  return header;
}

/**
 * The run of fields the local and the central header share, in the same order, from `at`
 * (6 in the local header, 8 in the central one):
 *
 *   offset size field
 *     at+0    2 flags (0: no encryption, sizes known up front, ASCII name)
 *     at+2    2 method (0 store, 8 deflate)
 *     at+4    2 DOS time,  at+6  2 DOS date
 *     at+8    4 CRC-32 of the uncompressed data
 *    at+12    4 compressed size,  at+16  4 uncompressed size
 *    at+20    2 name length,  at+22  2 extra field length (0)
 */
function writeSharedFields(view: DataView, at: number, record: ZipRecord, time: number, date: number): void {
  view.setUint16(at, 0, true);
  view.setUint16(at + 2, record.method, true);
  view.setUint16(at + 4, time, true);
  view.setUint16(at + 6, date, true);
  view.setUint32(at + 8, record.crc, true);
  view.setUint32(at + 12, record.compressedSize, true);
  view.setUint32(at + 16, record.size, true);
  view.setUint16(at + 20, record.name.length, true);
  view.setUint16(at + 22, 0, true);
}

/**
 *   offset size field
 *        0    4 signature 0x06054b50
 *        4    2 this disk (0),  6  2 disk where the central directory starts (0)
 *        8    2 entries on this disk,  10  2 entries in total
 *       12    4 central directory size,  16  4 central directory offset
 *       20    2 comment length (0)
 */
function zipEndOfDirectory(count: number, directorySize: number, directoryOffset: number): Uint8Array {
  const record = new Uint8Array(22);
  const view = new DataView(record.buffer);
  view.setUint32(0, 0x06054b50, true);
  view.setUint16(8, count, true);
  view.setUint16(10, count, true);
  view.setUint32(12, directorySize, true);
  view.setUint32(16, directoryOffset, true);
  return record;
}

/**
 * MS-DOS date and time, as zip stores them: two-second resolution, years from 1980. Zip has
 * no time zone; UTC keeps the archive the same whichever zone it is built in.
 */
function dosDateTime(moment: Date): { time: number; date: number } {
  const year = Math.min(Math.max(moment.getUTCFullYear(), 1980), 2107);
  const time = (moment.getUTCHours() << 11) | (moment.getUTCMinutes() << 5) | Math.floor(moment.getUTCSeconds() / 2);
  const date = ((year - 1980) << 9) | ((moment.getUTCMonth() + 1) << 5) | moment.getUTCDate();
  return { time, date };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
