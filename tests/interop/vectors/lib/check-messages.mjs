// Checker handlers for control, PoWeb binding and registration messages.
import {
  asn1DateTimeToDate,
  asn1js,
  CargoCollectionRequest,
  CargoMessageSet,
  CertificateRotation,
  CertificationPath,
  derSerializePublicKey,
  HandshakeChallenge,
  HandshakeResponse,
  NodeConnectionParams,
  ParcelCollectionAck,
  ParcelDelivery,
  PrivateNodeRegistration,
  PrivateNodeRegistrationAuthorization,
  PrivateNodeRegistrationRequest,
  ServiceMessage,
} from './relaynet.mjs';
import { importRsaPublicKey } from './keys.mjs';
import { isoSeconds, sha256Hex, toBuffer } from './util.mjs';

const hex = (value) => toBuffer(value).toString('hex');

// "Awala" + type 0x10 + version 0x00 (the package index does not export this constant).
const ROTATION_FORMAT_SIGNATURE = Buffer.from('4177616c611000', 'hex');
const isRotation = (message) =>
  toBuffer(message).subarray(0, ROTATION_FORMAT_SIGNATURE.length).equals(ROTATION_FORMAT_SIGNATURE);

/** relaynet-core cannot read the JVM (awala-jvm ≥ 1.67) CertificationPath encoding at all. */
const skipJvmEncoding = (item) =>
  item.fields?.encoding === 'jvm' ? 'JVM CertificationPath encoding is not parseable by relaynet-core' : null;

function pathFields(getPath) {
  return (parsed) => ({
    leaf_sha256: () => sha256Hex(getPath(parsed).leafCertificate.serialize()),
    ca_sha256: () => getPath(parsed).certificateAuthorities.map((c) => sha256Hex(c.serialize())),
    encoding: () => 'js', // whatever the library parses is by definition the JS encoding
  });
}

/**
 * PNRA/PNRR deserialisers check signatures and expiry while parsing. To tell "malformed" from
 * "invalid" as MANIFEST.md requires, parse with the class's own ASN.1 schema first, then run the
 * full deserialiser as the validation step.
 */
function parseWithSchema(MessageClass, bytes) {
  const result = asn1js.verifySchema(bytes, MessageClass.SCHEMA);
  if (!result.verified) throw new Error(`Not a valid ${MessageClass.name}`);
  return { bytes, fields: result.result[MessageClass.name] };
}

export const messageHandlers = {
  pca: {
    parse: (bytes) => ParcelCollectionAck.deserialize(bytes),
    fields: (pca) => ({
      sender_endpoint_id: () => pca.senderEndpointId,
      recipient_endpoint_id: () => pca.recipientEndpointId,
      parcel_id: () => pca.parcelId,
    }),
  },
  certification_path: {
    skip: skipJvmEncoding,
    parse: (bytes) => CertificationPath.deserialize(bytes),
    fields: pathFields((path) => path),
  },
  certificate_rotation: {
    skip: skipJvmEncoding,
    parse: (bytes) => CertificateRotation.deserialize(bytes),
    fields: pathFields((rotation) => rotation.certificationPath),
  },
  cargo_message_set: {
    parse: (bytes) => CargoMessageSet.deserialize(bytes),
    fields: (set) => ({ messages_sha256: () => set.messages.map(sha256Hex) }),
    // Every item must be something a JS gateway can use (parcel, PCA or rotation), except that
    // an unparseable CertificateRotation (e.g. JVM-encoded, for Android) is only skipped by it.
    async validate(set) {
      for (const [index, message] of set.messages.entries()) {
        try {
          await CargoMessageSet.deserializeItem(message);
        } catch (err) {
          if (isRotation(message)) continue;
          throw new Error(`Message #${index} is unusable: ${err.message}`);
        }
      }
    },
  },
  service_message: {
    parse: (bytes) => ServiceMessage.deserialize(bytes),
    fields: (message) => ({
      content_type: () => message.type,
      content_sha256: () => sha256Hex(message.content),
    }),
  },
  ccr: {
    parse: (bytes) => CargoCollectionRequest.deserialize(bytes),
    fields: (ccr) => ({ cda_sha256: () => sha256Hex(ccr.cargoDeliveryAuthorization.serialize()) }),
  },
  handshake_challenge: {
    parse: (bytes) => HandshakeChallenge.deserialize(bytes),
    fields: (challenge) => ({ nonce_hex: () => hex(challenge.nonce) }),
  },
  handshake_response: {
    parse: (bytes) => HandshakeResponse.deserialize(bytes),
    fields: (response) => ({ signatures_sha256: () => response.nonceSignatures.map(sha256Hex) }),
  },
  parcel_delivery: {
    parse: (bytes) => ParcelDelivery.deserialize(bytes),
    fields: (delivery) => ({
      delivery_id: () => delivery.deliveryId,
      parcel_sha256: () => sha256Hex(delivery.parcelSerialized),
    }),
  },
  pnra: {
    parse: (bytes) => parseWithSchema(PrivateNodeRegistrationAuthorization, bytes),
    fields: ({ fields }) => ({
      expiry_date: () => isoSeconds(asn1DateTimeToDate(fields.expiryDate)),
      gateway_data_hex: () => hex(fields.gatewayData.valueBlock.valueHexView),
    }),
    async validate({ bytes }, io, item) {
      const signerKey = await importRsaPublicKey(await io.read(item.signer_public_key));
      await PrivateNodeRegistrationAuthorization.deserialize(bytes, signerKey);
    },
  },
  pnrr: {
    parse: (bytes) => parseWithSchema(PrivateNodeRegistrationRequest, bytes),
    fields: ({ fields }) => ({
      public_key_sha256: () => sha256Hex(fields.privateNodePublicKey.valueBlock.valueHexView),
      pnra_sha256: () => sha256Hex(fields.pnraSerialized.valueBlock.valueHexView),
    }),
    async validate({ bytes }) {
      await PrivateNodeRegistrationRequest.deserialize(bytes);
    },
  },
  pnr: {
    parse: (bytes) => PrivateNodeRegistration.deserialize(bytes),
    fields: (pnr) => ({
      private_node_certificate_sha256: () => sha256Hex(pnr.privateNodeCertificate.serialize()),
      gateway_certificate_sha256: () => sha256Hex(pnr.gatewayCertificate.serialize()),
      internet_address: () => pnr.internetGatewayInternetAddress,
      session_key_id: () => (pnr.sessionKey ? hex(pnr.sessionKey.keyId) : null),
      session_public_key_sha256: async () =>
        pnr.sessionKey ? sha256Hex(await derSerializePublicKey(pnr.sessionKey.publicKey)) : null,
    }),
  },
  node_connection_params: {
    parse: (bytes) => NodeConnectionParams.deserialize(bytes),
    fields: (params) => ({
      internet_address: () => params.internetAddress,
      identity_key_sha256: async () => sha256Hex(await derSerializePublicKey(params.identityKey)),
      session_key_id: () => hex(params.sessionKey.keyId),
      session_public_key_sha256: async () => sha256Hex(await derSerializePublicKey(params.sessionKey.publicKey)),
    }),
  },
};
