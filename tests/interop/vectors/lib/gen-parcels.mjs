// Parcel items: a valid 3-certificate chain (PDA + PE + PG, trusted IG) and the ways it can fail.
import { randomBytes } from 'node:crypto';
import { Parcel, ServiceMessage } from './relaynet.mjs';
import { decryptBlock, encryptTo, ramfFields } from './gen-ramf-common.mjs';
import { addSeconds, DAY, HOUR, isoSeconds, toBuffer } from './util.mjs';

export async function writeParcels(out, pki, certPaths) {
  const { now, nodes, certs, igAddress } = pki;
  const serviceMessage = new ServiceMessage('application/vnd.awala.ping-v1.ping', Buffer.from('ping from the peer endpoint'));
  const serviceMessageBytes = toBuffer(serviceMessage.serialize());
  const payload = await encryptTo(pki.sessions.peP256, serviceMessageBytes);
  const parcelDecrypt = await decryptBlock(out, pki, 'peP256', 'parcel-service-message', serviceMessageBytes);
  const trusted = [certPaths.ig];
  const chain = [certs.pe.cert, certs.pg.cert];
  const results = {};

  async function parcel(name, spec) {
    const messagePayload = spec.payload ?? payload;
    const message = new Parcel(spec.recipient ?? { id: nodes.pe.id }, spec.senderCert ?? certs.pda.cert, messagePayload, {
      id: spec.id ?? `${name}-id`,
      creationDate: spec.creationDate ?? addSeconds(now, -HOUR),
      ttl: spec.ttl ?? DAY,
      senderCaCertificateChain: spec.chain ?? chain,
    });
    const key = spec.senderKey ?? nodes.peer.privateKey;
    const hash = spec.hash ?? 'SHA-256';
    const bytes = toBuffer(await message.serialize(key, { hashingAlgorithmName: hash }));
    const fileBytes = spec.mangle ? spec.mangle(bytes) : bytes;
    const file = await out.file(`${name}.der`, fileBytes);
    const item = {
      name,
      kind: 'parcel',
      file,
      expect: spec.expect ?? 'valid',
      reason: spec.reason,
      validate_at: spec.validateAt ? isoSeconds(spec.validateAt) : undefined,
      trusted_certificates: spec.trusted === null ? undefined : (spec.trusted ?? trusted),
      fields:
        spec.expect === 'malformed'
          ? undefined
          : ramfFields(message, {
              sender: spec.senderId ?? nodes.peer.id,
              senderCaCount: (spec.chain ?? chain).length,
              payload: messagePayload,
            }),
      decrypt: spec.decrypt === true ? parcelDecrypt : spec.decrypt,
    };
    out.item(item);
    results[name] = bytes;
    return bytes;
  }

  await parcel('parcel-valid-sha256', { decrypt: true });
  await parcel('parcel-valid-sha384', { hash: 'SHA-384', decrypt: true });
  await parcel('parcel-valid-sha512', { hash: 'SHA-512', decrypt: true });
  // Over 64 KiB of field set, so relaynet-core splits eContent into several OCTET STRING
  // segments and the payload envelope into many 1 KiB [0] pieces (BER a reader must handle).
  const bigMessage = toBuffer(new ServiceMessage('application/octet-stream', randomBytes(150_000)).serialize());
  await parcel('parcel-valid-large-payload', {
    payload: await encryptTo(pki.sessions.peP256, bigMessage),
    decrypt: await decryptBlock(out, pki, 'peP256', 'parcel-large-service-message', bigMessage),
  });
  // The same valid parcel judged at other instants, to exercise validate_at.
  await parcel('parcel-valid-at-later-time', { validateAt: addSeconds(now, 20 * HOUR) });
  await parcel('parcel-expired-at-validate-at', {
    validateAt: addSeconds(now, 2 * DAY),
    expect: 'invalid',
    reason: 'creation_date + ttl is before validate_at (2 days after created_at)',
  });
  // SignerInfo.sid carries the same non-minimal serial number as the sender certificate.
  await parcel('parcel-valid-serial-leading-zero', { senderCert: certs['pda-serial-leading-zero'].cert });
  await parcel('parcel-valid-internet-address', { recipient: { id: nodes.pe.id, internetAddress: igAddress } });
  await parcel('parcel-expired', {
    creationDate: addSeconds(now, -2 * DAY),
    ttl: HOUR,
    expect: 'invalid',
    reason: 'expired (creation_date + ttl < validate_at)',
  });
  await parcel('parcel-future-dated', {
    creationDate: addSeconds(now, HOUR),
    expect: 'invalid',
    reason: 'creation_date is after validate_at',
  });
  await parcel('parcel-wrong-recipient', {
    recipient: { id: nodes.pg.id },
    expect: 'invalid',
    reason: 'chain is valid but path[1] (the PE) is not the recipient',
  });
  await parcel('parcel-broken-chain', {
    chain: [certs.pg.cert],
    expect: 'invalid',
    reason: 'PE certificate (intermediate) missing from the attached chain',
  });
  await parcel('parcel-untrusted', {
    trusted: [certPaths['rsa4096-self']],
    expect: 'invalid',
    reason: 'chain does not lead to the supplied trust anchor',
  });
  // relaynet-core verifies the CMS signature while deserialising, so a bad signature makes the
  // message unparseable for it, not merely invalid.
  await parcel('parcel-tampered-signature', {
    mangle: (bytes) => {
      // JS output uses definite lengths and SignerInfo.signature is the last element, so the
      // final octet belongs to the RSA-PSS signature value.
      const copy = Buffer.from(bytes);
      copy[copy.length - 1] ^= 0x01;
      return copy;
    },
    expect: 'malformed',
    reason: 'last octet of the RSA-PSS signature flipped (relaynet-core rejects it on deserialisation)',
  });
  await parcel('parcel-truncated', {
    mangle: (bytes) => bytes.subarray(0, Math.floor(bytes.length / 2)),
    expect: 'malformed',
    reason: 'truncated to half its length',
  });
  await parcel('parcel-internet-bound', {
    recipient: { id: nodes.rsa3072.id, internetAddress: 'pohttp.example.org' },
    senderCert: certs['peer-self'].cert,
    chain: [],
    trusted: null,
  });
  await parcel('parcel-internet-bound-expired-sender', {
    recipient: { id: nodes.rsa3072.id, internetAddress: 'pohttp.example.org' },
    senderCert: certs.expired.cert,
    chain: [],
    trusted: null,
    expect: 'invalid',
    reason: 'sender certificate expired (checked even without trust anchors)',
  });
  return { parcels: results, serviceMessage, serviceMessageBytes };
}
