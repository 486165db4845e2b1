package awalatest;

import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.ASN1VisibleString;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * Kinds without CMS (notes §2.6), checked by plain ASN.1 parsing with BC's classes, the way
 * awala-jvm decodes them (IMPLICIT context tags by position), plus a strict-DER check.
 * PNRA signatures and PNRR countersignatures are verified with SHA256withRSAandMGF1 like
 * awala-jvm's RSASigning.
 */
final class PlainChecks {
    static final ASN1ObjectIdentifier PNRA_OID = new ASN1ObjectIdentifier("1.3.6.1.4.1.58708.0.2.0");
    static final ASN1ObjectIdentifier PNRR_OID = new ASN1ObjectIdentifier("1.3.6.1.4.1.58708.0.2.1");
    static final byte[] PCA_SIGNATURE = {'A', 'w', 'a', 'l', 'a', 0x51, 0x00};

    private PlainChecks() {}

    static void check(Checker.Item item) throws Exception {
        byte[] bytes = item.bytes();
        Fields expected = new Fields(item);
        switch (item.kind()) {
            case "pca" -> {
                if (bytes.length < 7 || !Arrays.equals(Arrays.copyOf(bytes, 7), PCA_SIGNATURE)) {
                    throw new Checker.Malformed("bad PCA format signature");
                }
                ASN1Sequence s = sequence(Arrays.copyOfRange(bytes, 7, bytes.length), 3);
                expected.string("sender_endpoint_id", visible(s, 0));
                expected.string("recipient_endpoint_id", visible(s, 1));
                expected.string("parcel_id", visible(s, 2));
            }
            case "cargo_message_set" -> {
                ASN1Sequence s = sequence(bytes, 0);
                List<String> digests = new ArrayList<>();
                for (ASN1Encodable element : s) {
                    if (!(element instanceof ASN1OctetString octets)) {
                        throw new Checker.Malformed("CargoMessageSet item is not an OCTET STRING");
                    }
                    digests.add(Util.sha256Hex(octets.getOctets()));
                }
                expected.strings("messages_sha256", digests);
            }
            case "service_message" -> {
                ASN1Sequence s = sequence(bytes, 2);
                expected.string("content_type", visible(s, 0));
                expected.string("content_sha256", Util.sha256Hex(octets(s, 1)));
            }
            case "ccr" -> {
                byte[] cda = octets(sequence(bytes, 1), 0);
                certificate(cda);
                expected.string("cda_sha256", Util.sha256Hex(cda));
            }
            case "handshake_challenge" -> expected.hex("nonce_hex", Util.hex(octets(sequence(bytes, 1), 0)));
            case "handshake_response" -> {
                ASN1Sequence signatures = ASN1Sequence.getInstance(tagged(sequence(bytes, 1), 0), false);
                List<String> digests = new ArrayList<>();
                for (ASN1Encodable element : signatures) {
                    digests.add(Util.sha256Hex(ASN1OctetString.getInstance(element).getOctets()));
                }
                expected.strings("signatures_sha256", digests);
            }
            case "parcel_delivery" -> {
                ASN1Sequence s = sequence(bytes, 2);
                expected.string("delivery_id", visible(s, 0));
                expected.string("parcel_sha256", Util.sha256Hex(octets(s, 1)));
            }
            case "pnra" -> checkPnra(item, bytes, expected);
            case "pnrr" -> {
                ASN1Sequence s = sequence(bytes, 3);
                byte[] spki = octets(s, 0);
                byte[] pnra = octets(s, 1);
                PublicKey key = rsaKey(spki);
                expected.string("public_key_sha256", Util.sha256Hex(spki));
                expected.string("pnra_sha256", Util.sha256Hex(pnra));
                byte[] plaintext = implicitSequence(PNRR_OID, new DEROctetString(pnra));
                if (!rsaPssVerify(key, plaintext, octets(s, 2))) {
                    throw new Checker.Invalid("PNRA countersignature does not verify");
                }
            }
            case "pnr" -> {
                ASN1Sequence s = sequence(bytes, 3);
                byte[] nodeCert = octets(s, 0);
                byte[] gatewayCert = octets(s, 1);
                certificate(nodeCert);
                certificate(gatewayCert);
                expected.string("private_node_certificate_sha256", Util.sha256Hex(nodeCert));
                expected.string("gateway_certificate_sha256", Util.sha256Hex(gatewayCert));
                expected.string("internet_address", visible(s, 2));
                String keyId = null;
                String keyDigest = null;
                if (s.size() > 3) {
                    ASN1Sequence sessionKey = ASN1Sequence.getInstance(tagged(s, 3), false);
                    keyId = Util.hex(octets(sessionKey, 0));
                    keyDigest = Util.sha256Hex(octets(sessionKey, 1));
                }
                expected.hex("session_key_id", keyId);
                expected.string("session_public_key_sha256", keyDigest);
            }
            case "node_connection_params" -> {
                ASN1Sequence s = sequence(bytes, 3);
                expected.string("internet_address", visible(s, 0));
                byte[] identity = octets(s, 1);
                rsaKey(identity);
                expected.string("identity_key_sha256", Util.sha256Hex(identity));
                ASN1Sequence sessionKey = ASN1Sequence.getInstance(tagged(s, 2), false);
                expected.hex("session_key_id", Util.hex(octets(sessionKey, 0)));
                expected.string("session_public_key_sha256", Util.sha256Hex(octets(sessionKey, 1)));
            }
            default -> throw new Checker.Skip("kind " + item.kind() + " is not known to this checker");
        }
    }

    /** PNRA: expiry as 14-digit DATE-TIME (read as UTC), signature over the plaintext of notes §2.6. */
    private static void checkPnra(Checker.Item item, byte[] bytes, Fields expected) throws Exception {
        ASN1Sequence s = sequence(bytes, 3);
        byte[] dateBytes = octets(s, 0); // raw contents of the implicitly tagged DATE-TIME
        String date = new String(dateBytes, java.nio.charset.StandardCharsets.US_ASCII);
        if (!date.matches("\\d{14}")) {
            throw new Checker.Malformed("PNRA expiry is not a 14-digit DATE-TIME: " + date);
        }
        Instant expiry = LocalDateTime.parse(date, Ramf.DATE_TIME).toInstant(ZoneOffset.UTC);
        byte[] gatewayData = octets(s, 1);
        expected.date("expiry_date", expiry);
        expected.hex("gateway_data_hex", Util.hex(gatewayData));
        String signer = Manifest.optString(item.json(), "signer_public_key");
        if (signer != null) {
            byte[] plaintext = implicitSequence(PNRA_OID, new DEROctetString(dateBytes), new DEROctetString(gatewayData));
            if (!rsaPssVerify(rsaKey(item.file(signer)), plaintext, octets(s, 2))) {
                throw new Checker.Invalid("PNRA signature does not verify");
            }
        }
        if (expiry.isBefore(item.at())) {
            throw new Checker.Invalid("PNRA expired");
        }
    }

    // ---- ASN.1 helpers ----

    /** Parse a DER SEQUENCE with at least {@code min} items; BER or trailing data is malformed. */
    static ASN1Sequence sequence(byte[] der, int min) throws Checker.Malformed {
        try {
            ASN1Primitive parsed = ASN1Primitive.fromByteArray(der);
            if (!Arrays.equals(parsed.getEncoded(ASN1Encoding.DER), der)) {
                throw new Checker.Malformed("not DER");
            }
            ASN1Sequence sequence = ASN1Sequence.getInstance(parsed);
            if (sequence.size() < min) {
                throw new Checker.Malformed("SEQUENCE has " + sequence.size() + " items, want " + min);
            }
            return sequence;
        } catch (Checker.Malformed e) {
            throw e;
        } catch (Exception e) {
            throw new Checker.Malformed("not a SEQUENCE: " + e);
        }
    }

    static ASN1TaggedObject tagged(ASN1Sequence sequence, int index) throws Checker.Malformed {
        try {
            ASN1TaggedObject tagged = ASN1TaggedObject.getInstance(sequence.getObjectAt(index));
            if (tagged.getTagNo() != index) {
                throw new Checker.Malformed("item " + index + " has tag [" + tagged.getTagNo() + "]");
            }
            return tagged;
        } catch (IllegalArgumentException e) {
            throw new Checker.Malformed("item " + index + " is not context-tagged");
        }
    }

    static String visible(ASN1Sequence sequence, int index) throws Checker.Malformed {
        try {
            return ASN1VisibleString.getInstance(tagged(sequence, index), false).getString();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new Checker.Malformed("item " + index + " is not a VisibleString");
        }
    }

    static byte[] octets(ASN1Sequence sequence, int index) throws Checker.Malformed {
        ASN1TaggedObject tagged = tagged(sequence, index);
        try {
            // Awala wraps certificates, keys and messages in primitive OCTET STRINGs only.
            if (tagged.getEncoded()[0] != (byte) (0x80 | index)) {
                throw new Checker.Malformed("item " + index + " is not a primitive OCTET STRING");
            }
            return ASN1OctetString.getInstance(tagged, false).getOctets();
        } catch (Checker.Malformed e) {
            throw e;
        } catch (Exception e) {
            throw new Checker.Malformed("item " + index + " is not an OCTET STRING");
        }
    }

    static void certificate(byte[] der) throws Checker.Malformed {
        try {
            new X509CertificateHolder(der);
        } catch (Exception e) {
            throw new Checker.Malformed("embedded certificate: " + e);
        }
    }

    static PublicKey rsaKey(byte[] spki) throws Checker.Malformed {
        try {
            return KeyFactory.getInstance("RSA", Util.BC).generatePublic(new X509EncodedKeySpec(spki));
        } catch (Exception e) {
            throw new Checker.Malformed("not an RSA SubjectPublicKeyInfo: " + e);
        }
    }

    static boolean rsaPssVerify(PublicKey key, byte[] plaintext, byte[] signature) throws Exception {
        Signature verifier = Signature.getInstance("SHA256withRSAandMGF1", Util.BC);
        verifier.initVerify(key);
        verifier.update(plaintext);
        try {
            return verifier.verify(signature);
        } catch (java.security.SignatureException e) {
            return false;
        }
    }

    static byte[] rsaPssSign(java.security.PrivateKey key, byte[] plaintext) throws Exception {
        Signature signer = Signature.getInstance("SHA256withRSAandMGF1", Util.BC);
        signer.initSign(key);
        signer.update(plaintext);
        return signer.sign();
    }

    /** SEQUENCE of IMPLICIT [0], [1], ... (awala-jvm's serializeSequence(items, false)). */
    static byte[] implicitSequence(ASN1Encodable... items) throws Exception {
        ASN1EncodableVector vector = new ASN1EncodableVector();
        for (int i = 0; i < items.length; i++) {
            vector.add(new DERTaggedObject(false, i, items[i]));
        }
        return new DERSequence(vector).getEncoded(ASN1Encoding.DER);
    }
}
