/**
 * Decoder (and a small encoder) for the binary `application/vnd.amazon.eventstream` framing that
 * Bedrock's ConverseStream / InvokeModelWithResponseStream responses use instead of SSE.
 *
 * A message is: total length (u32 BE), headers length (u32 BE), CRC32 of those 8 bytes, the
 * headers, the payload, and a CRC32 of everything before it. A header is a 1-byte name length,
 * the UTF-8 name, a 1-byte type tag and a typed value. Network chunks split messages anywhere, so
 * the decoder assembles frames incrementally: each byte is copied at most once and a frame that
 * lies wholly inside one chunk is read in place, so decoding stays linear in the stream length.
 *
 * A corrupt stream cannot be resynchronized (there is no marker to search for), so any framing
 * error throws `EventStreamError` and the decoder must not be used again.
 */

export type EventStreamHeaderValue = string | number | boolean | Uint8Array;

export interface EventStreamMessage {
  /**
   * Strings for string and uuid (8-4-4-4-12 hex) headers, numbers for the integer types and
   * timestamps (ms since the epoch; an int64 beyond 2^53 loses precision), booleans, and bytes.
   */
  headers: Record<string, EventStreamHeaderValue>;
  payload: Uint8Array;
}

export interface EventStreamDecoder {
  /** Feed the next chunk; returns the messages it completed, in order (often none). */
  push(chunk: Uint8Array): EventStreamMessage[];
  /** Declare the stream over; throws if a message was left incomplete. */
  end(): void;
}

export class EventStreamError extends Error {
  override name = "EventStreamError";
}

const PRELUDE_LENGTH = 12;
/** Prelude plus the trailing message CRC: the size of a message with no headers and no payload. */
const MIN_MESSAGE_LENGTH = 16;
/** Far above any real Bedrock event; a larger length means a corrupt or hostile stream, not a message to buffer. */
const MAX_MESSAGE_LENGTH = 16 * 1024 * 1024;

const CRC_TABLE = buildCrcTable();

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
}

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) of `bytes`, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  // An indexed loop: for-of over a typed array runs about ten times slower in JavaScriptCore.
  for (let i = 0; i < bytes.length; i++) crc = (CRC_TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Validates a 12-byte prelude and returns the message's total length. */
function readPrelude(prelude: Uint8Array): number {
  const view = viewOf(prelude);
  const totalLength = view.getUint32(0);
  const headersLength = view.getUint32(4);
  const expected = view.getUint32(8);
  const actual = crc32(prelude.subarray(0, 8));
  if (actual !== expected) {
    throw new EventStreamError(`prelude CRC mismatch: expected ${hex32(expected)}, computed ${hex32(actual)}`);
  }
  if (totalLength < MIN_MESSAGE_LENGTH || totalLength > MAX_MESSAGE_LENGTH) {
    throw new EventStreamError(`message length ${totalLength} is outside ${MIN_MESSAGE_LENGTH}..${MAX_MESSAGE_LENGTH} bytes`);
  }
  if (headersLength > totalLength - MIN_MESSAGE_LENGTH) {
    throw new EventStreamError(`headers length ${headersLength} does not fit in a ${totalLength}-byte message`);
  }
  return totalLength;
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

const utf8 = new TextDecoder();

function formatUuid(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function decodeHeaders(bytes: Uint8Array): Record<string, EventStreamHeaderValue> {
  const view = viewOf(bytes);
  const headers: Record<string, EventStreamHeaderValue> = {};
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.length) throw new EventStreamError(`header block truncated at byte ${at} of ${bytes.length}`);
  };
  while (at < bytes.length) {
    const nameLength = view.getUint8(at);
    at += 1;
    need(nameLength + 1);
    const name = utf8.decode(bytes.subarray(at, at + nameLength));
    at += nameLength;
    const type = view.getUint8(at);
    at += 1;
    let value: EventStreamHeaderValue;
    switch (type) {
      case 0:
      case 1:
        value = type === 0;
        break;
      case 2:
        need(1);
        value = view.getInt8(at);
        at += 1;
        break;
      case 3:
        need(2);
        value = view.getInt16(at);
        at += 2;
        break;
      case 4:
        need(4);
        value = view.getInt32(at);
        at += 4;
        break;
      case 5:
      case 8:
        need(8);
        value = Number(view.getBigInt64(at));
        at += 8;
        break;
      case 6:
      case 7: {
        need(2);
        const length = view.getUint16(at);
        at += 2;
        need(length);
        const raw = bytes.subarray(at, at + length);
        value = type === 6 ? raw.slice() : utf8.decode(raw);
        at += length;
        break;
      }
      case 9:
        need(16);
        value = formatUuid(bytes.subarray(at, at + 16));
        at += 16;
        break;
      default:
        throw new EventStreamError(`header "${name}" has unknown value type ${type}`);
    }
    headers[name] = value;
  }
  return headers;
}

/** Decodes one complete frame whose prelude has already been validated. */
function decodeMessage(frame: Uint8Array): EventStreamMessage {
  const view = viewOf(frame);
  const bodyEnd = frame.length - 4;
  const expected = view.getUint32(bodyEnd);
  const actual = crc32(frame.subarray(0, bodyEnd));
  if (actual !== expected) {
    throw new EventStreamError(`message CRC mismatch: expected ${hex32(expected)}, computed ${hex32(actual)}`);
  }
  const headersEnd = PRELUDE_LENGTH + view.getUint32(4);
  return {
    headers: decodeHeaders(frame.subarray(PRELUDE_LENGTH, headersEnd)),
    // A copy, so the message neither pins a large network chunk nor changes if the caller reuses it.
    payload: frame.slice(headersEnd, bodyEnd),
  };
}

/** A decoder for one response body; feed it the body's chunks in order. */
export function createEventStreamDecoder(): EventStreamDecoder {
  // Bytes of a prelude split across chunks, gathered until its 12 bytes are known.
  const prelude = new Uint8Array(PRELUDE_LENGTH);
  let preludeFilled = 0;
  // The frame being assembled across chunks, sized from its prelude; undefined between frames.
  let frame: Uint8Array | undefined;
  let frameFilled = 0;

  return {
    push(chunk) {
      const messages: EventStreamMessage[] = [];
      let offset = 0;
      while (offset < chunk.length) {
        const available = chunk.length - offset;
        if (frame === undefined) {
          if (preludeFilled === 0 && available >= PRELUDE_LENGTH) {
            const totalLength = readPrelude(chunk.subarray(offset, offset + PRELUDE_LENGTH));
            if (available >= totalLength) {
              messages.push(decodeMessage(chunk.subarray(offset, offset + totalLength)));
              offset += totalLength;
              continue;
            }
            frame = new Uint8Array(totalLength);
            frameFilled = 0;
          } else {
            const n = Math.min(PRELUDE_LENGTH - preludeFilled, available);
            prelude.set(chunk.subarray(offset, offset + n), preludeFilled);
            preludeFilled += n;
            offset += n;
            if (preludeFilled < PRELUDE_LENGTH) break;
            frame = new Uint8Array(readPrelude(prelude));
            frame.set(prelude);
            frameFilled = PRELUDE_LENGTH;
            preludeFilled = 0;
            continue;
          }
        }
        const n = Math.min(frame.length - frameFilled, available);
        frame.set(chunk.subarray(offset, offset + n), frameFilled);
        frameFilled += n;
        offset += n;
        if (frameFilled === frame.length) {
          messages.push(decodeMessage(frame));
          frame = undefined;
        }
      }
      return messages;
    },

    end() {
      if (frame !== undefined) {
        throw new EventStreamError(`stream ended inside a message: ${frameFilled} of ${frame.length} bytes received`);
      }
      if (preludeFilled > 0) {
        throw new EventStreamError(`stream ended inside a message prelude: ${preludeFilled} of ${PRELUDE_LENGTH} bytes received`);
      }
    },
  };
}

const utf8Encoder = new TextEncoder();

/** Builds one frame with string headers (type 7), e.g. for a mock Bedrock server or tests. */
export function encodeEventStreamMessage(headers: Record<string, string>, payload: Uint8Array): Uint8Array {
  const encoded = Object.entries(headers).map(([name, value]) => {
    const nameBytes = utf8Encoder.encode(name);
    const valueBytes = utf8Encoder.encode(value);
    if (nameBytes.length === 0 || nameBytes.length > 0xff) throw new EventStreamError(`header name "${name}" must be 1 to 255 bytes`);
    if (valueBytes.length > 0xffff) throw new EventStreamError(`header "${name}" value exceeds 65535 bytes`);
    return { nameBytes, valueBytes };
  });
  const headersLength = encoded.reduce((sum, h) => sum + 1 + h.nameBytes.length + 1 + 2 + h.valueBytes.length, 0);
  const totalLength = MIN_MESSAGE_LENGTH + headersLength + payload.length;
  if (totalLength > MAX_MESSAGE_LENGTH) throw new EventStreamError(`message of ${totalLength} bytes exceeds ${MAX_MESSAGE_LENGTH}`);

  const frame = new Uint8Array(totalLength);
  const view = viewOf(frame);
  view.setUint32(0, totalLength);
  view.setUint32(4, headersLength);
  view.setUint32(8, crc32(frame.subarray(0, 8)));
  let at = PRELUDE_LENGTH;
  for (const { nameBytes, valueBytes } of encoded) {
    view.setUint8(at, nameBytes.length);
    frame.set(nameBytes, at + 1);
    at += 1 + nameBytes.length;
    view.setUint8(at, 7);
    view.setUint16(at + 1, valueBytes.length);
    frame.set(valueBytes, at + 3);
    at += 3 + valueBytes.length;
  }
  frame.set(payload, at);
  view.setUint32(totalLength - 4, crc32(frame.subarray(0, totalLength - 4)));
  return frame;
}
