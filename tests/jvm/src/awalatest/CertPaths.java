package awalatest;

import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.x509.Certificate;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * CertificationPath in its two wire forms (notes §1.7). JVM (awala-jvm >= 1.67):
 * {@code SEQUENCE { [0] IMPLICIT Certificate, [1] IMPLICIT SEQUENCE OF Certificate }}.
 * JS: {@code SEQUENCE { [0] IMPLICIT OCTET STRING, [1] IMPLICIT SEQUENCE OF OCTET STRING }}.
 */
final class CertPaths {
    static final byte[] ROTATION_SIGNATURE = {'A', 'w', 'a', 'l', 'a', 0x10, 0x00};

    private CertPaths() {}

    /** {@code jvmDecoderError}: why awala-jvm's own decoder rejects this path (JS form), else null. */
    record Path(X509CertificateHolder leaf, List<X509CertificateHolder> cas, String encoding, String jvmDecoderError) {}

    /** awala-jvm's CertificationPath.serialize: implicit tags over the Certificate structures. */
    static byte[] encodeJvm(X509CertificateHolder leaf, List<X509CertificateHolder> cas) throws Exception {
        ASN1EncodableVector caVector = new ASN1EncodableVector();
        for (X509CertificateHolder ca : cas) {
            caVector.add(ca.toASN1Structure());
        }
        ASN1EncodableVector outer = new ASN1EncodableVector();
        outer.add(new DERTaggedObject(false, 0, leaf.toASN1Structure()));
        outer.add(new DERTaggedObject(false, 1, new DERSequence(caVector)));
        return new DERSequence(outer).getEncoded(ASN1Encoding.DER);
    }

    /** The JS (relaynet-core) form, built with BC's ASN.1 classes; used to exercise parsers. */
    static byte[] encodeJs(X509CertificateHolder leaf, List<X509CertificateHolder> cas) throws Exception {
        ASN1EncodableVector caVector = new ASN1EncodableVector();
        for (X509CertificateHolder ca : cas) {
            caVector.add(new org.bouncycastle.asn1.DEROctetString(ca.getEncoded()));
        }
        ASN1EncodableVector outer = new ASN1EncodableVector();
        outer.add(new DERTaggedObject(false, 0, new org.bouncycastle.asn1.DEROctetString(leaf.getEncoded())));
        outer.add(new DERTaggedObject(false, 1, new DERSequence(caVector)));
        return new DERSequence(outer).getEncoded(ASN1Encoding.DER);
    }

    /**
     * Parse either form. The JVM form goes through the same BC calls as awala-jvm's decoder
     * (Certificate.getInstance(tagged, false)); the JS form is recognised by its primitive [0]
     * (0x80), which that decoder rejects, and is read as OCTET STRINGs instead.
     */
    static Path parse(byte[] der) throws Checker.Malformed {
        try {
            ASN1Sequence sequence = ASN1Sequence.getInstance(ASN1Primitive.fromByteArray(der));
            if (sequence.size() < 2) {
                throw new Checker.Malformed("path sequence has fewer than 2 items");
            }
            ASN1TaggedObject leafTagged = ASN1TaggedObject.getInstance(sequence.getObjectAt(0));
            ASN1TaggedObject casTagged = ASN1TaggedObject.getInstance(sequence.getObjectAt(1));
            if (leafTagged.getTagNo() != 0 || casTagged.getTagNo() != 1) {
                throw new Checker.Malformed("unexpected tags in path");
            }
            boolean js = leafTagged.getEncoded()[0] == (byte) 0x80;
            List<X509CertificateHolder> cas = new ArrayList<>();
            for (ASN1Encodable item : ASN1Sequence.getInstance(casTagged, false)) {
                cas.add(js
                        ? new X509CertificateHolder(ASN1OctetString.getInstance(item).getOctets())
                        : new X509CertificateHolder(Certificate.getInstance(item)));
            }
            X509CertificateHolder leaf = js
                    ? new X509CertificateHolder(ASN1OctetString.getInstance(leafTagged, false).getOctets())
                    : new X509CertificateHolder(Certificate.getInstance(leafTagged, false));
            String jvmDecoderError = null;
            if (js) {
                try {
                    Certificate.getInstance(leafTagged, false); // what awala-jvm's decoder does
                    jvmDecoderError = "none: awala-jvm's decoder accepted the JS form";
                } catch (RuntimeException e) {
                    jvmDecoderError = e.toString();
                }
            }
            return new Path(leaf, cas, js ? "js" : "jvm", jvmDecoderError);
        } catch (Checker.Malformed e) {
            throw e;
        } catch (Exception e) {
            throw new Checker.Malformed("CertificationPath: " + e);
        }
    }
}
