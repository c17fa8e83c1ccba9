// The copy's key: PBKDF2-SHA-256 from the password and a per-account salt,
// AES-GCM, non-extractable, held in memory only. A key-check value (a known
// text encrypted under the key) tells a wrong password from a right one.
import { config } from './config.js';

const CHECK_TEXT = 'casework key check v1';
const enc = new TextEncoder();
const dec = new TextDecoder();

/** @typedef {{iv: Uint8Array, ct: ArrayBuffer}} Sealed */

/** @returns {Uint8Array} */
export function newSalt() {
  return crypto.getRandomValues(new Uint8Array(16));
}

/**
 * @param {string} password
 * @param {Uint8Array} salt
 * @returns {Promise<CryptoKey>}
 */
export async function deriveKey(password, salt) {
  const base = await crypto.subtle.importKey('raw', enc.encode(password), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: /** @type {BufferSource} */ (salt), iterations: config.pbkdf2Iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/**
 * @param {CryptoKey} key
 * @param {unknown} value any JSON value
 * @returns {Promise<Sealed>}
 */
export async function seal(key, value) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, enc.encode(JSON.stringify(value)));
  return { iv, ct };
}

/**
 * @param {CryptoKey} key
 * @param {Sealed} sealed
 * @returns {Promise<any>}
 */
export async function open(key, sealed) {
  const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: /** @type {BufferSource} */ (sealed.iv) }, key, sealed.ct);
  return JSON.parse(dec.decode(pt));
}

/** @param {CryptoKey} key */
export function keyCheck(key) {
  return seal(key, CHECK_TEXT);
}

/**
 * @param {CryptoKey} key
 * @param {Sealed} check
 * @returns {Promise<boolean>}
 */
export async function keyMatches(key, check) {
  try {
    return (await open(key, check)) === CHECK_TEXT;
  } catch {
    return false;
  }
}
