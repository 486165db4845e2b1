package awalatest;

import com.google.gson.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.DERGeneralizedTime;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.DERVisibleString;

/**
 * PoWeb control messages (notes §2.6) encoded as awala-jvm encodes them: the PNRR and
 * HandshakeResponse an Android gateway sends, and the PNRA, PNR, HandshakeChallenge,
 * ParcelDelivery and NodeConnectionParams it reads.
 */
final class ControlVectors {
    private final Generator g;

    ControlVectors(Generator generator) {
        this.g = generator;
    }

    void run(byte[] parcel) throws Exception {
        byte[] pnra = pnra(g.now.plus(Duration.ofSeconds(10)), "pnra", "valid", null);
        pnra(g.now.minus(Duration.ofSeconds(10)), "pnra-expired", "invalid", "expired");
        pnrr(pnra);
        pnr();
        handshake();
        parcelDelivery(parcel);
        connectionParams();
    }

    /** PNRA signed by the IG over SEQUENCE { [0] OID …0.2.0, [1] DATE-TIME, [2] gatewayData }. */
    private byte[] pnra(Instant expiry, String name, String expect, String reason) throws Exception {
        // awala-jvm's derEncodeUTCDate: a DERGeneralizedTime holding 14 digits without 'Z'.
        DERGeneralizedTime date = new DERGeneralizedTime(
                LocalDateTime.ofInstant(expiry, ZoneOffset.UTC).format(Ramf.DATE_TIME));
        DEROctetString gatewayData = new DEROctetString(Util.sha256(g.pgKey.getPublic().getEncoded()));
        byte[] signature = PlainChecks.rsaPssSign(g.igKey.getPrivate(),
                PlainChecks.implicitSequence(PlainChecks.PNRA_OID, date, gatewayData));
        byte[] bytes = PlainChecks.implicitSequence(date, gatewayData, new DEROctetString(signature));
        JsonObject item = g.rawItem(name, "pnra", bytes, expect, reason);
        JsonObject fields = new JsonObject();
        fields.addProperty("expiry_date", Util.iso(expiry));
        fields.addProperty("gateway_data_hex", Util.hex(gatewayData.getOctets()));
        item.add("fields", fields);
        item.addProperty("signer_public_key", "keys/ig-identity.spki.der");
        return bytes;
    }

    /** PNRR as the Android gateway sends it: SPKI and PNRA wrapped in OCTET STRINGs, countersigned. */
    private void pnrr(byte[] pnra) throws Exception {
        byte[] spki = g.pgKey.getPublic().getEncoded();
        byte[] countersignature = PlainChecks.rsaPssSign(g.pgKey.getPrivate(),
                PlainChecks.implicitSequence(PlainChecks.PNRR_OID, new DEROctetString(pnra)));
        byte[] bytes = PlainChecks.implicitSequence(
                new DEROctetString(spki), new DEROctetString(pnra), new DEROctetString(countersignature));
        JsonObject fields = new JsonObject();
        fields.addProperty("public_key_sha256", Util.sha256Hex(spki));
        fields.addProperty("pnra_sha256", Util.sha256Hex(pnra));
        g.rawItem("pnrr", "pnrr", bytes, "valid", null).add("fields", fields);

        // Same PNRR with a countersignature by another key: parses, fails verification.
        byte[] forged = PlainChecks.rsaPssSign(g.strangerKey.getPrivate(),
                PlainChecks.implicitSequence(PlainChecks.PNRR_OID, new DEROctetString(pnra)));
        byte[] bad = PlainChecks.implicitSequence(
                new DEROctetString(spki), new DEROctetString(pnra), new DEROctetString(forged));
        g.rawItem("pnrr-bad-countersignature", "pnrr", bad, "invalid", "countersigned with another key")
                .add("fields", fields);
    }

    private void pnr() throws Exception {
        byte[] sessionSpki = g.igSession.pair().getPublic().getEncoded();
        byte[] bytes = PlainChecks.implicitSequence(
                new DEROctetString(g.pgCert.getEncoded()),
                new DEROctetString(g.igCert.getEncoded()),
                new DERVisibleString(Generator.IG_ADDRESS),
                new DERSequence(taggedVector(new DEROctetString(g.igSession.id()), new DEROctetString(sessionSpki))));
        JsonObject fields = new JsonObject();
        fields.addProperty("private_node_certificate_sha256", Util.sha256Hex(g.pgCert.getEncoded()));
        fields.addProperty("gateway_certificate_sha256", Util.sha256Hex(g.igCert.getEncoded()));
        fields.addProperty("internet_address", Generator.IG_ADDRESS);
        fields.addProperty("session_key_id", Util.hex(g.igSession.id()));
        fields.addProperty("session_public_key_sha256", Util.sha256Hex(sessionSpki));
        g.rawItem("pnr", "pnr", bytes, "valid", null).add("fields", fields);
    }

    /** HandshakeChallenge and the Android HandshakeResponse: one nonce signature by the PG. */
    private void handshake() throws Exception {
        byte[] nonce = Util.randomBytes(16);
        byte[] challenge = PlainChecks.implicitSequence(new DEROctetString(nonce));
        JsonObject challengeFields = new JsonObject();
        challengeFields.addProperty("nonce_hex", Util.hex(nonce));
        g.rawItem("handshake-challenge", "handshake_challenge", challenge, "valid", null).add("fields", challengeFields);

        byte[] signature = Cms.sign(Generator.safePlaintext("1.3.6.1.4.1.58708.0.3.1", nonce),
                g.pgKey.getPrivate(), g.pgCert, List.of(g.pgCert), "sha256", false);
        ASN1EncodableVector signatures = new ASN1EncodableVector();
        signatures.add(new DEROctetString(signature));
        byte[] response = PlainChecks.implicitSequence(new DERSequence(signatures));
        JsonObject responseFields = new JsonObject();
        responseFields.add("signatures_sha256", Manifest.strings(List.of(Util.sha256Hex(signature))));
        g.rawItem("handshake-response", "handshake_response", response, "valid", null).add("fields", responseFields);
    }

    private void parcelDelivery(byte[] parcel) throws Exception {
        String deliveryId = java.util.UUID.randomUUID().toString();
        byte[] bytes = PlainChecks.implicitSequence(new DERVisibleString(deliveryId), new DEROctetString(parcel));
        JsonObject fields = new JsonObject();
        fields.addProperty("delivery_id", deliveryId);
        fields.addProperty("parcel_sha256", Util.sha256Hex(parcel));
        g.rawItem("parcel-delivery", "parcel_delivery", bytes, "valid", null).add("fields", fields);
    }

    private void connectionParams() throws Exception {
        byte[] identity = g.igKey.getPublic().getEncoded();
        byte[] sessionSpki = g.igSession.pair().getPublic().getEncoded();
        byte[] bytes = PlainChecks.implicitSequence(
                new DERVisibleString(Generator.IG_ADDRESS),
                new DEROctetString(identity),
                new DERSequence(taggedVector(new DEROctetString(g.igSession.id()), new DEROctetString(sessionSpki))));
        JsonObject fields = new JsonObject();
        fields.addProperty("internet_address", Generator.IG_ADDRESS);
        fields.addProperty("identity_key_sha256", Util.sha256Hex(identity));
        fields.addProperty("session_key_id", Util.hex(g.igSession.id()));
        fields.addProperty("session_public_key_sha256", Util.sha256Hex(sessionSpki));
        g.rawItem("node-connection-params", "node_connection_params", bytes, "valid", null).add("fields", fields);
    }

    private static ASN1EncodableVector taggedVector(org.bouncycastle.asn1.ASN1Encodable... items) {
        ASN1EncodableVector vector = new ASN1EncodableVector();
        for (int i = 0; i < items.length; i++) {
            vector.add(new DERTaggedObject(false, i, items[i]));
        }
        return vector;
    }
}
