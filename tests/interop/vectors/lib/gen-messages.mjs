// Control messages, PoWeb (GSC) binding messages and registration messages: plain DER values
// (some with a format signature) whose bytes come straight from relaynet-core's serialisers.
import { randomBytes } from 'node:crypto';
import {
  CargoCollectionRequest,
  CertificateRotation,
  CertificationPath,
  HandshakeChallenge,
  HandshakeResponse,
  NodeConnectionParams,
  ParcelCollectionAck,
  ParcelDelivery,
  PrivateNodeRegistration,
  PrivateNodeRegistrationAuthorization,
  PrivateNodeRegistrationRequest,
} from './relaynet.mjs';
import { exportSpki } from './keys.mjs';
import { addSeconds, isoSeconds, sha256Hex, toArrayBuffer, toBuffer } from './util.mjs';

/** The CertificateRotation the IG would send a PG: new PG cert + the IG cert that issued it. */
export function makeRotation(pki) {
  const path = new CertificationPath(pki.certs.pg.cert, [pki.certs.ig.cert]);
  return { path, pathBytes: toBuffer(path.serialize()), rotationBytes: toBuffer(new CertificateRotation(path).serialize()) };
}

export async function writeControlMessages(out, pki, ctx) {
  const { nodes, certs } = pki;
  const simple = async (name, kind, bytes, fields, extra = {}) =>
    out.item({ name, kind, file: await out.file(`${name}.der`, bytes), expect: 'valid', fields, ...extra });

  await simple('pca', 'pca', toBuffer(ctx.pcaToPg.serialize()), {
    sender_endpoint_id: ctx.pcaToPg.senderEndpointId,
    recipient_endpoint_id: ctx.pcaToPg.recipientEndpointId,
    parcel_id: ctx.pcaToPg.parcelId,
  });
  const pcaBytes = toBuffer(new ParcelCollectionAck(nodes.peer.id, nodes.pe.id, 'x').serialize());
  out.item({
    name: 'pca-truncated',
    kind: 'pca',
    file: await out.file('pca-truncated.der', pcaBytes.subarray(0, pcaBytes.length - 3)),
    expect: 'malformed',
    reason: 'truncated by 3 octets',
  });

  const setItems = [ctx.parcels['parcel-internet-bound'], ctx.parcels['parcel-valid-sha256'], toBuffer(ctx.pcaToPg.serialize())];
  await simple('cargo-message-set', 'cargo_message_set', ctx.pgToIgSet, { messages_sha256: setItems.map(sha256Hex) });

  const pathFields = {
    leaf_sha256: sha256Hex(certs.pg.der),
    ca_sha256: [sha256Hex(certs.ig.der)],
    encoding: 'js',
  };
  await simple('certification-path', 'certification_path', ctx.rotation.pathBytes, pathFields);
  await simple('certificate-rotation', 'certificate_rotation', ctx.rotation.rotationBytes, pathFields);

  await simple('service-message', 'service_message', ctx.serviceMessageBytes, {
    content_type: ctx.serviceMessage.type,
    content_sha256: sha256Hex(ctx.serviceMessage.content),
  });
  await simple('ccr', 'ccr', ctx.ccr, { cda_sha256: sha256Hex(certs.cda.der) });
  const jvmCcr = toBuffer(new CargoCollectionRequest(certs['cda-jvm-style'].cert).serialize());
  await simple('ccr-jvm-style-cda', 'ccr', jvmCcr, { cda_sha256: sha256Hex(certs['cda-jvm-style'].der) });
}

export async function writeBindingMessages(out, pki, ctx) {
  const nonce = ctx.nonce;
  const simple = async (name, kind, bytes, fields) =>
    out.item({ name, kind, file: await out.file(`${name}.der`, bytes), expect: 'valid', fields });

  await simple('handshake-challenge', 'handshake_challenge', toBuffer(new HandshakeChallenge(toArrayBuffer(nonce)).serialize()), {
    nonce_hex: nonce.toString('hex'),
  });
  const signatures = [ctx.handshakeSignature];
  await simple('handshake-response', 'handshake_response', toBuffer(new HandshakeResponse(signatures.map(toArrayBuffer)).serialize()), {
    signatures_sha256: signatures.map(sha256Hex),
  });
  const parcel = ctx.parcels['parcel-valid-sha256'];
  await simple('parcel-delivery', 'parcel_delivery', toBuffer(new ParcelDelivery('delivery-1', toArrayBuffer(parcel)).serialize()), {
    delivery_id: 'delivery-1',
    parcel_sha256: sha256Hex(parcel),
  });
}

export async function writeRegistrationMessages(out, pki) {
  const { now, nodes, certs, sessions, igAddress } = pki;
  const igKeyPath = await out.file('keys/ig-identity.spki.der', nodes.ig.spki);
  const pgKeyDigest = Buffer.from(sha256Hex(nodes.pg.spki), 'hex');

  async function pnra(name, expiryDate, signerKey, expect, reason) {
    const bytes = toBuffer(await new PrivateNodeRegistrationAuthorization(expiryDate, toArrayBuffer(pgKeyDigest)).serialize(signerKey));
    out.item({
      name,
      kind: 'pnra',
      file: await out.file(`${name}.der`, bytes),
      expect,
      reason,
      signer_public_key: igKeyPath,
      fields: { expiry_date: isoSeconds(expiryDate), gateway_data_hex: pgKeyDigest.toString('hex') },
    });
    return bytes;
  }
  // Real IGs make PNRAs expire within 10 s (notes §5.1).
  const pnraBytes = await pnra('pnra', addSeconds(now, 10), nodes.ig.privateKey, 'valid');
  await pnra('pnra-expired', addSeconds(now, -10), nodes.ig.privateKey, 'invalid', 'expiry_date before validate_at');
  await pnra('pnra-wrong-signer', addSeconds(now, 10), nodes.pg.privateKey, 'invalid', 'signed by the PG key, not signer_public_key');

  const pnrrFields = { public_key_sha256: sha256Hex(nodes.pg.spki), pnra_sha256: sha256Hex(pnraBytes) };
  const request = new PrivateNodeRegistrationRequest(nodes.pg.publicKey, toArrayBuffer(pnraBytes));
  out.item({
    name: 'pnrr',
    kind: 'pnrr',
    file: await out.file('pnrr.der', toBuffer(await request.serialize(nodes.pg.privateKey))),
    expect: 'valid',
    fields: pnrrFields,
  });
  out.item({
    name: 'pnrr-wrong-countersigner',
    kind: 'pnrr',
    file: await out.file('pnrr-wrong-countersigner.der', toBuffer(await request.serialize(nodes.pe.privateKey))),
    expect: 'invalid',
    reason: 'countersigned with a key other than the one in the request',
    fields: pnrrFields,
  });

  const igSession = sessions.igP256;
  for (const [name, sessionKey] of [['pnr', igSession.pair.sessionKey], ['pnr-without-session-key', null]]) {
    const registration = new PrivateNodeRegistration(certs.pg.cert, certs.ig.cert, igAddress, sessionKey);
    out.item({
      name,
      kind: 'pnr',
      file: await out.file(`${name}.der`, toBuffer(await registration.serialize())),
      expect: 'valid',
      fields: {
        private_node_certificate_sha256: sha256Hex(certs.pg.der),
        gateway_certificate_sha256: sha256Hex(certs.ig.der),
        internet_address: igAddress,
        session_key_id: sessionKey ? igSession.keyIdHex : null,
        session_public_key_sha256: sessionKey ? sha256Hex(igSession.spki) : null,
      },
    });
  }

  const params = new NodeConnectionParams(igAddress, nodes.ig.publicKey, igSession.pair.sessionKey);
  out.item({
    name: 'node-connection-params',
    kind: 'node_connection_params',
    file: await out.file('node-connection-params.der', toBuffer(await params.serialize())),
    expect: 'valid',
    fields: {
      internet_address: igAddress,
      identity_key_sha256: sha256Hex(await exportSpki(nodes.ig.publicKey)),
      session_key_id: igSession.keyIdHex,
      session_public_key_sha256: sha256Hex(igSession.spki),
    },
  });
}

export const makeNonce = () => randomBytes(16);
