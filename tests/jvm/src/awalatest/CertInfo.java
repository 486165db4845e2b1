package awalatest;

import org.bouncycastle.asn1.ASN1Boolean;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * The certificate facts the manifest compares. basicConstraints is read by hand because
 * Awala puts a pathLenConstraint on non-CA certificates (PDAs, CDAs), which BC's
 * BasicConstraints class would not report faithfully.
 */
record CertInfo(String issuerId, boolean isCa, Long pathLen) {
    static CertInfo of(X509CertificateHolder cert) throws Checker.Malformed {
        try {
            AuthorityKeyIdentifier aki = AuthorityKeyIdentifier.fromExtensions(cert.getExtensions());
            String issuerId = aki == null || aki.getKeyIdentifier() == null ? null : "0" + Util.hex(aki.getKeyIdentifier());
            Extension extension = cert.getExtension(Extension.basicConstraints);
            boolean isCa = false;
            Long pathLen = null;
            if (extension != null) {
                ASN1Sequence sequence = ASN1Sequence.getInstance(extension.getParsedValue());
                for (ASN1Encodable element : sequence) {
                    if (element instanceof ASN1Boolean bool) {
                        isCa = bool.isTrue();
                    } else {
                        pathLen = ASN1Integer.getInstance(element).getValue().longValueExact();
                    }
                }
            }
            return new CertInfo(issuerId, isCa, pathLen);
        } catch (Exception e) {
            throw new Checker.Malformed("certificate extensions: " + e);
        }
    }
}
