// Small byte/date helpers shared by the generator and the checker.
import { createHash } from 'node:crypto';

/** Normalise Buffer / ArrayBuffer / typed array to a Buffer (no copy when possible). */
export function toBuffer(value) {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`Not a byte sequence: ${Object.prototype.toString.call(value)}`);
}

/** relaynet-core APIs take ArrayBuffers; a Buffer may be a view over a shared pool, so copy. */
export function toArrayBuffer(value) {
  const buf = toBuffer(value);
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

export function sha256Hex(value) {
  return createHash('sha256').update(toBuffer(value)).digest('hex');
}

/** The manifest uses ISO 8601 UTC with second precision (no milliseconds). */
export function isoSeconds(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Awala dates (certificates, RAMF, PNRA) have second precision, so expected values must too. */
export function floorToSecond(date) {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

export function addSeconds(date, seconds) {
  return new Date(date.getTime() + seconds * 1000);
}

export const HOUR = 3600;
export const DAY = 86400;
