// Cargo (both directions) and CCA items, with session-encrypted payloads.
import {
  Cargo,
  CargoCollectionAuthorization,
  CargoCollectionRequest,
  CargoMessageSet,
  ParcelCollectionAck,
} from './relaynet.mjs';
import { decryptBlock, encryptTo, ramfFields } from './gen-ramf-common.mjs';
import { addSeconds, DAY, HOUR, toArrayBuffer, toBuffer } from './util.mjs';

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
