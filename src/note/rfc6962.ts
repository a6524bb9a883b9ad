/**
 * RFC 6962 signed tree heads as note signatures, signature type 0x05 (https://c2sp.org/static-ct-api
 * §"Checkpoints"; https://c2sp.org/signed-note §"Signature types"). Static-CT logs sign checkpoints
 * this way, and a classic CT get-sth response converts to the same note.
 *
 *   key ID    = SHA-256(name || 0x0A || 0x05 || LogID), LogID = SHA-256(SPKI DER)   (RFC 6962 §3.2)
 *   signature = u64 timestamp (ms) || TLS DigitallySigned(TreeHeadSignature)         (RFC 6962 §3.5)
 *
 * The signature covers only size and root (not the note text), so a checkpoint with extension lines
 * cannot be signed this way and is refused, and the origin line is not authenticated by it: static-ct-api
 * §"Checkpoints" has the key name match the origin line, so a note whose origin is not the key's name is
 * refused too (otherwise one STH would verify under any origin, any log's checkpoint under another's name).
 */
import { verify } from 'node:crypto';
import { TlogwatchError } from '../errors.ts';
import { isRecord } from '../util/json.ts';
import { concatBytes, parseBase64, toBase64, utf8 } from '../util/bytes.ts';
import { formatCheckpoint, parseCheckpoint } from './checkpoint.ts';
import { spkiPublicKey } from './ecdsa.ts';
import { ALG_RFC6962_STH, c2spKeyId, sha256 } from './key-id.ts';
import type { NoteVerifier } from './note.ts';

/** RFC 5246 §7.4.1.4.1 codes as RFC 6962 uses them. */
const HASH_SHA256 = 4;
const SIG_RSA = 1;
const SIG_ECDSA = 3;

/** RFC 6962 §3.5 TreeHeadSignature: version v1(0), signature_type tree_hash(1), timestamp, tree_size, root. */
export function treeHeadSignatureInput(timestamp: bigint, size: bigint, root: Uint8Array): Uint8Array {
  const b = new Uint8Array(2 + 8 + 8 + 32);
  const dv = new DataView(b.buffer);
  b[0] = 0;
  b[1] = 1;
  dv.setBigUint64(2, timestamp);
  dv.setBigUint64(10, size);
  b.set(root, 18);
  return b;
}

export function rfc6962Verifier(name: string, spkiDer: Uint8Array): NoteVerifier {
  const key = spkiPublicKey(spkiDer);
  const sigAlg = key.asymmetricKeyType === 'ec' ? SIG_ECDSA : key.asymmetricKeyType === 'rsa' ? SIG_RSA : undefined;
  if (sigAlg === undefined) throw new TlogwatchError('NOTE_BAD_KEY', `RFC 6962 logs sign with ECDSA or RSA, not ${key.asymmetricKeyType}`);
  return {
    name,
    keyHash: c2spKeyId(name, ALG_RFC6962_STH, sha256(spkiDer)).slice(0, 4),
    kind: 'rfc6962',
    verify: (text, sig) => {
      if (sig.length < 12) return undefined;
      const dv = new DataView(sig.buffer, sig.byteOffset, sig.byteLength);
      if (sig.length !== 12 + dv.getUint16(10) || sig[8] !== HASH_SHA256 || sig[9] !== sigAlg) return false;
      let cp;
      try {
        cp = parseCheckpoint(utf8.decode(text));
      } catch {
        return false;
      }
      if (cp.extensions.length > 0 || cp.origin !== name) return false;
      const input = treeHeadSignatureInput(dv.getBigUint64(0), cp.size, cp.rootHash);
      try {
        return verify('sha256', input, { key, dsaEncoding: 'der' }, sig.subarray(12));
      } catch {
        return false;
      }
    },
  };
}

/** The origin of a classic CT log: its URL without scheme and trailing slashes (transparency-dev/formats `rfc6962LogName`). */
export function rfc6962Origin(logUrl: string): string {
  return logUrl.replace(/^https?:\/\//, '').replace(/\/+$/, '');
}

function sthField(o: Record<string, unknown>, k: string): unknown {
  if (!(k in o)) throw new TlogwatchError('CHECKPOINT_MALFORMED', `get-sth response has no ${k}`);
  return o[k];
}

function sthInteger(o: Record<string, unknown>, k: string): bigint {
  const v = sthField(o, k);
  // JSON numbers past 2^53 have already lost precision in JSON.parse: refuse rather than guess.
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new TlogwatchError('CHECKPOINT_MALFORMED', `get-sth ${k} is not a non-negative safe integer`);
  return BigInt(v);
}

/**
 * An RFC 6962 §4.3 get-sth response (parsed JSON) as a signed checkpoint note, signed with type 0x05 under
 * `key` (the log's verifier: its name and key hash). The result still has to be verified.
 */
export function sthToSignedNote(sth: unknown, origin: string, key: { name: string; keyHash: Uint8Array }): string {
  if (!isRecord(sth)) throw new TlogwatchError('CHECKPOINT_MALFORMED', 'get-sth response is not a JSON object');
  const size = sthInteger(sth, 'tree_size');
  const timestamp = sthInteger(sth, 'timestamp');
  const rootText = sthField(sth, 'sha256_root_hash');
  const sigText = sthField(sth, 'tree_head_signature');
  const rootHash = typeof rootText === 'string' ? parseBase64(rootText, 32) : undefined;
  const digitallySigned = typeof sigText === 'string' ? parseBase64(sigText) : undefined;
  if (!rootHash) throw new TlogwatchError('CHECKPOINT_MALFORMED', 'get-sth sha256_root_hash is not 32 bytes of base64');
  if (!digitallySigned || digitallySigned.length < 4) throw new TlogwatchError('CHECKPOINT_MALFORMED', 'get-sth tree_head_signature is not a DigitallySigned struct');
  const text = formatCheckpoint({ origin, size, rootHash, extensions: [] });
  const ts = new Uint8Array(8);
  new DataView(ts.buffer).setBigUint64(0, timestamp);
  return `${text}\n\u2014 ${key.name} ${toBase64(concatBytes(key.keyHash, ts, digitallySigned))}\n`;
}
