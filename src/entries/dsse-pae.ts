/**
 * The DSSE v1 pre-authentication encoding (DSSE protocol.md, "Signature definition"):
 * `DSSEv1 <len(type)> <type> <len(body)> <body>`, lengths in bytes as ASCII decimal. A DSSE signature is
 * over these bytes, and a client that logs a DSSE signature as hashedrekord (sigstore-java's Rekor v2
 * bundles, 4855114 in test/fixtures/realdata) logs their SHA-256 as the signed digest: the digest then
 * commits to the payload as a dsse entry's payload hash does.
 */
export function dssePae(payloadType: string, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `), payload]);
}
