// Certificate, parcel, cargo and CCA items.
import {
  Cargo,
  CargoCollectionAuthorization,
  CargoCollectionRequest,
  CargoMessageSet,
  Parcel,
  ParcelCollectionAck,
  ServiceMessage,
  SessionEnvelopedData,
} from './relaynet.mjs';
import { randomBytes } from 'node:crypto';
import { addSeconds, DAY, HOUR, isoSeconds, sha256Hex, toArrayBuffer, toBuffer } from './util.mjs';

export async function writeCertificates(out, pki) {
  const paths = {};
  for (const [name, record] of Object.entries(pki.certs)) {
    paths[name] = await out.file(`certs/${name}.der`, record.der);
  }
  const notYetValid = { expect: 'invalid', reason: 'not valid yet at validate_at' };
  const special = {
    expired: { expect: 'invalid', reason: 'expired before validate_at' },
    'not-yet-valid': notYetValid,
  };
  for (const [name, record] of Object.entries(pki.certs)) {
    out.item({
      name: `certificate-${name}`,
      kind: 'certificate',
      file: paths[name],
      expect: special[name]?.expect ?? 'valid',
      reason: special[name]?.reason,
      fields: record.fields,
    });
  }
  // The PG certificate also chains to the IG certificate (what PoWeb countersignatures rely on).
  out.item({
    name: 'certificate-pg-trusted-ig',
    kind: 'certificate',
    file: paths.pg,
    expect: 'valid',
    trusted_certificates: [paths.ig],
    fields: pki.certs.pg.fields,
  });
  out.item({
    name: 'certificate-pg-untrusted',
    kind: 'certificate',
    file: paths.pg,
    expect: 'invalid',
    reason: 'issuer (IG) is not among the trust anchors',
    trusted_certificates: [paths['rsa4096-self']],
    fields: pki.certs.pg.fields,
  });
  const pgDer = toBuffer(pki.certs.pg.der);
  out.item({
    name: 'certificate-truncated',
    kind: 'certificate',
    file: await out.file('certs/truncated.der', pgDer.subarray(0, pgDer.length - 40)),
    expect: 'malformed',
    reason: 'DER truncated by 40 octets',
  });
  return paths;
}

function ramfFields(message, { sender, senderCaCount, payload }) {
  return {
    id: message.id,
    recipient_id: message.recipient.id,
    recipient_internet_address: message.recipient.internetAddress ?? null,
    creation_date: isoSeconds(message.creationDate),
    ttl: message.ttl,
    payload_sha256: sha256Hex(payload),
    sender_id: sender,
    sender_ca_count: senderCaCount,
  };
}

async function encryptTo(session, plaintext) {
  const { envelopedData } = await SessionEnvelopedData.encrypt(toArrayBuffer(plaintext), session.pair.sessionKey);
  return toBuffer(envelopedData.serialize());
}

/** The RAMF payload decryption block (MANIFEST.md `decrypt`, plus our `session_key_id`). */
async function decryptBlock(out, pki, sessionName, plaintextName, plaintext) {
  const session = pki.sessions[sessionName];
  return {
    session_private_key: await out.file(`keys/${sessionName}-session.pkcs8.der`, session.pkcs8),
    session_key_id: session.keyIdHex,
    plaintext: await out.file(`plain/${plaintextName}.bin`, plaintext),
  };
}

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

export async function writeCargoAndCcas(out, pki, certPaths, parcels) {
  const { now, nodes, certs, igAddress } = pki;
  const pcaToPg = new ParcelCollectionAck(nodes.peer.id, nodes.pe.id, 'parcel-collected-earlier');
  const pgToIgSet = toBuffer(
    new CargoMessageSet([
      toArrayBuffer(parcels['parcel-internet-bound']),
      toArrayBuffer(parcels['parcel-valid-sha256']),
      pcaToPg.serialize(),
    ]).serialize(),
  );
  const pgToIgSetPath = await out.file('plain/cargo-pg-to-ig.cms.der', pgToIgSet);

  async function ramf(Kind, kind, name, spec) {
    const payload = await encryptTo(pki.sessions[spec.session], spec.plaintext);
    const message = new Kind(spec.recipient, spec.senderCert, payload, {
      id: `${name}-id`,
      creationDate: spec.creationDate,
      ttl: spec.ttl,
      senderCaCertificateChain: [],
    });
    const bytes = toBuffer(await message.serialize(spec.senderKey));
    const decryptSession = spec.decryptSession ?? spec.session;
    const decrypt = await decryptBlock(out, pki, decryptSession, spec.plaintextName, spec.plaintext);
    out.item({
      name,
      kind,
      file: await out.file(`${name}.der`, bytes),
      expect: spec.expect ?? 'valid',
      reason: spec.reason,
      trusted_certificates: spec.trusted,
      fields: ramfFields(message, { sender: spec.senderId, senderCaCount: 0, payload }),
      decrypt,
    });
    return bytes;
  }

  const fromPg = (session) => ({
    recipient: { id: nodes.ig.id, internetAddress: igAddress },
    senderCert: certs.pg.cert,
    senderKey: nodes.pg.privateKey,
    senderId: nodes.pg.id,
    trusted: [certPaths.ig],
    session,
  });
  // Real PGs back-date cargo by 3 h and use the latest item expiry as TTL (notes §8.4).
  for (const [curve, session] of [['p256', 'igP256'], ['p384', 'igP384'], ['p521', 'igP521']]) {
    await ramf(Cargo, 'cargo', `cargo-pg-to-ig-${curve}`, {
      ...fromPg(session),
      creationDate: addSeconds(now, -3 * HOUR),
      ttl: 14 * DAY,
      plaintext: pgToIgSet,
      plaintextName: 'cargo-pg-to-ig.cms',
    });
  }

  // Cargo the other way: signed by the IG with the CDA as sender certificate; the PG trusts
  // the issuer of its CDA (its self-issued cert for JS-style CDAs, its IG-issued cert otherwise).
  const rotation = pki.rotationBytes;
  const igToPgSet = toBuffer(
    new CargoMessageSet([
      toArrayBuffer(parcels['parcel-valid-sha256']),
      new ParcelCollectionAck(nodes.pe.id, nodes.peer.id, 'parcel-delivered-earlier').serialize(),
      toArrayBuffer(rotation),
    ]).serialize(),
  );
  for (const [suffix, cda, anchor] of [['', 'cda', 'pg-self'], ['-jvm-cda', 'cda-jvm-style', 'pg']]) {
    await ramf(Cargo, 'cargo', `cargo-ig-to-pg${suffix}`, {
      recipient: { id: nodes.pg.id },
      senderCert: certs[cda].cert,
      senderKey: nodes.ig.privateKey,
      senderId: nodes.ig.id,
      trusted: [certPaths[anchor]],
      session: 'pgP256',
      creationDate: addSeconds(now, -3 * HOUR),
      ttl: 7 * DAY,
      plaintext: igToPgSet,
      plaintextName: 'cargo-ig-to-pg.cms',
    });
  }

  const ccr = toBuffer(new CargoCollectionRequest(certs.cda.cert).serialize());
  const ccaSpec = {
    ...fromPg('igP256'),
    creationDate: addSeconds(now, -90 * 60),
    ttl: 14 * DAY + 90 * 60,
    plaintext: ccr,
    plaintextName: 'ccr',
  };
  const cca = await ramf(CargoCollectionAuthorization, 'cca', 'cca-valid', ccaSpec);
  await ramf(CargoCollectionAuthorization, 'cca', 'cca-wrong-recipient', {
    ...ccaSpec,
    recipient: { id: nodes.pg.id, internetAddress: igAddress },
    expect: 'invalid',
    reason: 'path[1] (the IG) is not the recipient',
  });
  await ramf(CargoCollectionAuthorization, 'cca', 'cca-unknown-session-key', {
    ...ccaSpec,
    decryptSession: 'igOther',
    expect: 'invalid',
    reason: 'payload encrypted to another IG session key (key id unknown to the supplied key)',
  });
  return { pgToIgSet, pgToIgSetPath, ccr, cca, pcaToPg };
}
