package awalatest;

import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.ASN1VisibleString;
import org.bouncycastle.asn1.DERGeneralizedTime;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.DERVisibleString;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * RAMF messages: the 7-octet format signature, then a CMS SignedData whose eContent is the DER
 * field set (notes §2.3). Building follows awala-jvm's RAMFSerializer; parsing follows its
 * deserializer plus strict checks on what Rust must emit (DER field set, primitive [4]).
 */
final class Ramf {
    static final byte PARCEL = 0x50;
    static final byte CARGO = 0x43;
    static final byte CCA = 0x44;
    static final int MAX_SIZE = 9 * 1024 * 1024;
    static final int MAX_TTL = 15_552_000;

    /** awala-jvm's BER_DATETIME_FORMATTER: 14 digits, no zone designator. */
    static final DateTimeFormatter DATE_TIME = DateTimeFormatter.ofPattern("yyyyMMddHHmmss");

    private static final Pattern RECIPIENT_ID = Pattern.compile("^0[a-f0-9]+$");

    /**
     * Domain syntax as awala-jvm checks it on receipt: dot-separated labels of letters, digits
     * and inner hyphens (max 63), ending in an alphabetic TLD of 2-24 letters or an IDN "xn--" one.
     */
    private static final Pattern DOMAIN = Pattern.compile(
            "(?i)^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+(?:[a-z]{2,24}|xn--[a-z0-9-]{2,24})$");

    static final int MAX_PAYLOAD = 8_388_608; // awala-jvm's RAMFMessage.MAX_PAYLOAD_LENGTH

    private Ramf() {}

    record Fields(String recipientId, String internetAddress, String id, Instant creation, int ttl, byte[] payload) {}

    record Message(Fields fields, X509CertificateHolder sender, List<X509CertificateHolder> cas) {}

    static byte[] formatSignature(byte type) {
        return Util.concat("Awala".getBytes(StandardCharsets.US_ASCII), new byte[] {type, 0});
    }

    static byte type(String kind) {
        return switch (kind) {
            case "parcel" -> PARCEL;
            case "cargo" -> CARGO;
            case "cca" -> CCA;
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /** DER field set with IMPLICIT context tags by position, exactly as awala-jvm builds it. */
    static byte[] fieldSet(Fields f) throws Exception {
        ASN1EncodableVector recipient = new ASN1EncodableVector();
        recipient.add(new DERTaggedObject(false, 0, new DERVisibleString(f.recipientId())));
        if (f.internetAddress() != null) {
            recipient.add(new DERTaggedObject(false, 1, new DERVisibleString(f.internetAddress())));
        }
        String creation = LocalDateTime.ofInstant(f.creation(), ZoneOffset.UTC).format(DATE_TIME);
        ASN1Encodable[] items = {
            new DERSequence(recipient),
            new DERVisibleString(f.id()),
            // awala-jvm writes DATE-TIME through DERGeneralizedTime with a 14-digit string.
            new DERGeneralizedTime(creation),
            new ASN1Integer(f.ttl()),
            new DEROctetString(f.payload()),
        };
        ASN1EncodableVector tagged = new ASN1EncodableVector();
        for (int i = 0; i < items.length; i++) {
            tagged.add(new DERTaggedObject(false, i, items[i]));
        }
        return new DERSequence(tagged).getEncoded(ASN1Encoding.DER);
    }

    static byte[] serialize(
            byte type,
            Fields fields,
            PrivateKey key,
            X509CertificateHolder sender,
            Collection<X509CertificateHolder> cas,
            String hash)
            throws Exception {
        List<X509CertificateHolder> certs = new ArrayList<>();
        certs.add(sender);
        certs.addAll(cas);
        return Util.concat(formatSignature(type), Cms.sign(fieldSet(fields), key, sender, certs, hash, true));
    }

    /** awala-jvm's deserialize: size, format signature, SignedData verification, field set. */
    static Message parse(byte[] bytes, byte type) throws Checker.Malformed {
        if (bytes.length > MAX_SIZE) {
            throw new Checker.Malformed("larger than 9 MiB");
        }
        if (bytes.length < 7 || !Arrays.equals(Arrays.copyOf(bytes, 7), formatSignature(type))) {
            throw new Checker.Malformed("bad format signature");
        }
        Cms.Verified verified;
        try {
            verified = Cms.verify(Arrays.copyOfRange(bytes, 7, bytes.length), null);
        } catch (Checker.Invalid e) {
            // awala-jvm (and relaynet-core) verify the signature while deserialising.
            throw new Checker.Malformed(e.getMessage());
        }
        return new Message(parseFieldSet(verified.content()), verified.signer(), verified.others());
    }

    static Fields parseFieldSet(byte[] der) throws Checker.Malformed {
        try {
            ASN1Primitive parsed = ASN1Primitive.fromByteArray(der);
            if (!Arrays.equals(parsed.getEncoded(ASN1Encoding.DER), der)) {
                throw new Checker.Malformed("field set is not DER");
            }
            ASN1Sequence sequence = ASN1Sequence.getInstance(parsed);
            if (sequence.size() != 5) {
                throw new Checker.Malformed("field set has " + sequence.size() + " items");
            }
            ASN1TaggedObject[] f = new ASN1TaggedObject[5];
            for (int i = 0; i < 5; i++) {
                f[i] = ASN1TaggedObject.getInstance(sequence.getObjectAt(i));
                if (f[i].getTagClass() != org.bouncycastle.asn1.BERTags.CONTEXT_SPECIFIC || f[i].getTagNo() != i) {
                    throw new Checker.Malformed("field " + i + " has the wrong tag");
                }
            }
            // The payload must be a primitive [4] (0x84): JS parses it with a primitive-only schema.
            if (f[4].getEncoded()[0] != (byte) 0x84) {
                throw new Checker.Malformed("payload [4] is not primitive");
            }
            ASN1Sequence recipient = ASN1Sequence.getInstance(f[0], false);
            if (recipient.size() < 1) {
                throw new Checker.Malformed("recipient is empty");
            }
            String recipientId = visible(recipient.getObjectAt(0), 0);
            if (recipientId.length() > 1024 || !RECIPIENT_ID.matcher(recipientId).matches()) {
                throw new Checker.Malformed("recipient id is malformed");
            }
            String address = recipient.size() > 1 ? visible(recipient.getObjectAt(1), 1) : null;
            if (address != null && (address.length() > 1024 || !DOMAIN.matcher(address).matches())) {
                throw new Checker.Malformed("recipient Internet address is not a domain name: " + address);
            }
            String id = ASN1VisibleString.getInstance(f[1], false).getString();
            if (id.length() > 64) {
                throw new Checker.Malformed("message id longer than 64");
            }
            String creationText = ASN1VisibleString.getInstance(f[2], false).getString();
            if (!creationText.matches("\\d{14}")) {
                throw new Checker.Malformed("creation date is not a 14-digit DATE-TIME: " + creationText);
            }
            Instant creation = LocalDateTime.parse(creationText, DATE_TIME).toInstant(ZoneOffset.UTC);
            int ttl = ASN1Integer.getInstance(f[3], false).intPositiveValueExact();
            if (ttl > MAX_TTL) {
                throw new Checker.Malformed("TTL above 180 days");
            }
            byte[] payload = ASN1OctetString.getInstance(f[4], false).getOctets();
            if (payload.length > MAX_PAYLOAD) {
                throw new Checker.Malformed("payload larger than " + MAX_PAYLOAD);
            }
            return new Fields(recipientId, address, id, creation, ttl, payload);
        } catch (Checker.Malformed e) {
            throw e;
        } catch (Exception e) {
            throw new Checker.Malformed("field set: " + e);
        }
    }

    private static String visible(ASN1Encodable item, int tag) throws Checker.Malformed {
        ASN1TaggedObject tagged = ASN1TaggedObject.getInstance(item);
        if (tagged.getTagNo() != tag) {
            throw new Checker.Malformed("recipient field has tag " + tagged.getTagNo());
        }
        return ASN1VisibleString.getInstance(tagged, false).getString();
    }
}
