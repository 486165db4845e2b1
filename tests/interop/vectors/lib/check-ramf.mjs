// Checker handlers for certificates and RAMF messages (parcel, cargo, CCA).
import {
  Cargo,
  Certificate,
  CargoCollectionAuthorization,
  EnvelopedData,
  Parcel,
  SessionEnvelopedData,
} from './relaynet.mjs';
import { importSessionPrivateKey } from './keys.mjs';
import { isoSeconds, sha256Hex, toArrayBuffer, toBuffer } from './util.mjs';

const BASIC_CONSTRAINTS = '2.5.29.19';

function basicConstraints(certificate) {
  const extension = certificate.pkijsCertificate.extensions?.find((e) => e.extnID === BASIC_CONSTRAINTS);
  if (!extension) return { isCa: false, pathLen: null };
  const parsed = extension.parsedValue;
  let pathLen = parsed.pathLenConstraint ?? null;
  // pkijs keeps oversized integers as asn1js objects; Awala path lengths are 0..2.
  if (pathLen !== null && typeof pathLen !== 'number') pathLen = pathLen.valueBlock.valueDec;
  return { isCa: parsed.cA === true, pathLen };
}

export const certificateHandler = {
  parse: (bytes) => Certificate.deserialize(bytes),
  fields: (cert) => ({
    subject_id: () => cert.calculateSubjectId(),
    issuer_id: () => cert.getIssuerId(),
    not_before: () => isoSeconds(cert.startDate),
    not_after: () => isoSeconds(cert.expiryDate),
    is_ca: () => basicConstraints(cert).isCa,
    path_len: () => basicConstraints(cert).pathLen,
  }),
  async validate(cert, io, item) {
    cert.validate();
    if (item.trusted_certificates) {
      await cert.getCertificationPath([], await io.readCertificates(item.trusted_certificates));
    }
  },
};

/**
 * Decrypt a session envelope with the manifest's key. When `decrypt.session_key_id` is given,
 * act like a key store holding only that key: an envelope for another key id is undecryptable.
 * (The library's own PrivateKeyStore cannot be used: it always imports keys as P-256.)
 */
export async function decryptSessionEnvelope(envelope, io, item) {
  if (!(envelope instanceof SessionEnvelopedData)) throw new Error('Not a session (key agreement) envelope');
  const recipientKeyId = toBuffer(envelope.getRecipientKeyId()).toString('hex');
  const knownKeyId = item.decrypt.session_key_id;
  if (knownKeyId && knownKeyId.toLowerCase() !== recipientKeyId) {
    throw new Error(`No session private key with id ${recipientKeyId} (only ${knownKeyId})`);
  }
  const privateKey = await importSessionPrivateKey(await io.read(item.decrypt.session_private_key));
  return { plaintext: await envelope.decrypt(privateKey), privateKey };
}

function ramfHandler(MessageClass) {
  return {
    parse: (bytes) => MessageClass.deserialize(bytes),
    fields: (message) => ({
      id: () => message.id,
      recipient_id: () => message.recipient.id,
      recipient_internet_address: () => message.recipient.internetAddress ?? null,
      creation_date: () => isoSeconds(message.creationDate),
      ttl: () => message.ttl,
      payload_sha256: () => sha256Hex(message.payloadSerialized),
      sender_id: () => message.senderCertificate.calculateSubjectId(),
      sender_ca_count: () => message.senderCaCertificateChain.length,
    }),
    async validate(message, io, item) {
      if (item.trusted_certificates) {
        await message.validate(await io.readCertificates(item.trusted_certificates));
      } else {
        await message.validate();
      }
    },
    async decrypt(message, io, item) {
      const envelope = EnvelopedData.deserialize(toArrayBuffer(message.payloadSerialized));
      const { plaintext, privateKey } = await decryptSessionEnvelope(envelope, io, item);
      // Also go through the library's own unwrapping, which parses the payload type
      // (ServiceMessage, CargoMessageSet or CargoCollectionRequest).
      await message.unwrapPayload(privateKey);
      return plaintext;
    },
  };
}

export const ramfHandlers = {
  parcel: ramfHandler(Parcel),
  cargo: ramfHandler(Cargo),
  cca: ramfHandler(CargoCollectionAuthorization),
};
