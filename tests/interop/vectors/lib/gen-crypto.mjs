// Detached signatures (PoWeb), encapsulated SignedData and session EnvelopedData items.
import {
  ParcelCollectionHandshakeSigner,
  ParcelDeliverySigner,
  SessionEnvelopedData,
  SignedData,
} from './relaynet.mjs';
import { sha256Hex, toArrayBuffer, toBuffer } from './util.mjs';

export const OID_PARCEL_DELIVERY = '1.3.6.1.4.1.58708.0.3.0';
export const OID_HANDSHAKE = '1.3.6.1.4.1.58708.0.3.1';

export async function writeDetachedSignatures(out, pki, certPaths, ctx) {
  const { nodes, certs } = pki;
  const parcel = ctx.parcels['parcel-valid-sha256'];
  const parcelPath = 'parcel-valid-sha256.der'; // already written by the parcel section
  const noncePath = await out.file('plain/handshake-nonce.bin', ctx.nonce);
  const otherNoncePath = await out.file('plain/other-nonce.bin', Buffer.alloc(16, 0x42));

  const deliverySig = toBuffer(await new ParcelDeliverySigner(certs.pg.cert, nodes.pg.privateKey).sign(toArrayBuffer(parcel)));
  const handshakeSig = toBuffer(
    await new ParcelCollectionHandshakeSigner(certs.pg.cert, nodes.pg.privateKey).sign(toArrayBuffer(ctx.nonce)),
  );
  const untrustedSig = toBuffer(
    await new ParcelCollectionHandshakeSigner(certs['rsa4096-self'].cert, nodes.rsa4096.privateKey).sign(toArrayBuffer(ctx.nonce)),
  );
  const deliverySigOverNonce = toBuffer(
    await new ParcelDeliverySigner(certs.pg.cert, nodes.pg.privateKey).sign(toArrayBuffer(ctx.nonce)),
  );

  const trusted = [certPaths.ig];
  const items = [
    ['detached-parcel-delivery', deliverySig, parcelPath, OID_PARCEL_DELIVERY, nodes.pg.id, 'valid'],
    ['detached-handshake-nonce', handshakeSig, noncePath, OID_HANDSHAKE, nodes.pg.id, 'valid'],
    ['detached-untrusted-signer', untrustedSig, noncePath, OID_HANDSHAKE, nodes.rsa4096.id, 'invalid',
      'signer certificate does not chain to the trusted IG certificate'],
    ['detached-wrong-purpose', deliverySigOverNonce, noncePath, OID_HANDSHAKE, nodes.pg.id, 'invalid',
      'signed as a parcel-delivery countersignature (…0.3.0), checked as a handshake signature (…0.3.1)'],
    ['detached-wrong-plaintext', handshakeSig, otherNoncePath, OID_HANDSHAKE, nodes.pg.id, 'invalid',
      'signature over another nonce'],
  ];
  for (const [name, sig, plaintext, oid, signerId, expect, reason] of items) {
    out.item({
      name,
      kind: 'detached_signature',
      file: await out.file(`${name}.der`, sig),
      expect,
      reason,
      trusted_certificates: trusted,
      detached: { plaintext, oid },
      fields: { signer_id: signerId },
    });
  }
  return { handshakeSignature: handshakeSig };
}

export async function writeSignedData(out, pki, certPaths) {
  const { nodes, certs } = pki;
  const plaintext = Buffer.from('Signed by the private gateway, attached chain = [IG certificate]');
  for (const hash of ['SHA-256', 'SHA-384', 'SHA-512']) {
    const signedData = await SignedData.sign(toArrayBuffer(plaintext), nodes.pg.privateKey, certs.pg.cert, [certs.ig.cert], {
      hashingAlgorithmName: hash,
    });
    const short = hash.replace('-', '').toLowerCase();
    out.item({
      name: `signed-data-${short}`,
      kind: 'signed_data',
      file: await out.file(`signed-data-${short}.der`, signedData.serialize()),
      expect: 'valid',
      trusted_certificates: [certPaths.ig],
      fields: { plaintext_sha256: sha256Hex(plaintext), signer_id: nodes.pg.id, hash: short },
    });
  }
  // Flip one octet of the encapsulated plaintext: still parses, digest no longer matches.
  const signedData = await SignedData.sign(toArrayBuffer(plaintext), nodes.pg.privateKey, certs.pg.cert, [certs.ig.cert]);
  const bytes = Buffer.from(toBuffer(signedData.serialize()));
  const offset = bytes.indexOf(plaintext);
  if (offset < 0) throw new Error('Encapsulated plaintext not found in SignedData');
  bytes[offset] ^= 0x20;
  const tampered = Buffer.from(plaintext);
  tampered[0] ^= 0x20;
  out.item({
    name: 'signed-data-tampered-content',
    kind: 'signed_data',
    file: await out.file('signed-data-tampered-content.der', bytes),
    expect: 'invalid',
    reason: 'one octet of the encapsulated content changed after signing',
    trusted_certificates: [certPaths.ig],
    fields: { plaintext_sha256: sha256Hex(tampered), signer_id: nodes.pg.id, hash: 'sha256' },
  });
}

export async function writeSessionEnvelopes(out, pki) {
  const plaintext = Buffer.from('Session-encrypted plaintext '.repeat(64)); // > 1 KiB: chunked [0]
  const plaintextPath = await out.file('plain/envelope.bin', plaintext);
  const cases = [
    ['session-envelope-p256', 'igP256', 'igP256', 'valid'],
    ['session-envelope-p384', 'igP384', 'igP384', 'valid'],
    ['session-envelope-p521', 'igP521', 'igP521', 'valid'],
    ['session-envelope-unknown-key-id', 'igP256', 'igOther', 'invalid',
      'recipient key id differs from the supplied key (its id is in decrypt.session_key_id)'],
  ];
  for (const [name, recipientName, decryptName, expect, reason] of cases) {
    const recipient = pki.sessions[recipientName];
    const decryptWith = pki.sessions[decryptName];
    const result = await SessionEnvelopedData.encrypt(toArrayBuffer(plaintext), recipient.pair.sessionKey);
    out.item({
      name,
      kind: 'session_envelope',
      file: await out.file(`${name}.der`, result.envelopedData.serialize()),
      expect,
      reason,
      fields: {
        recipient_key_id: recipient.keyIdHex,
        originator_key_id: toBuffer(result.dhKeyId).toString('hex'),
        curve: recipient.curve,
      },
      decrypt: {
        session_private_key: await out.file(`keys/${decryptName}-session.pkcs8.der`, decryptWith.pkcs8),
        session_key_id: decryptWith.keyIdHex,
        plaintext: plaintextPath,
      },
    });
  }
}
