//! Key primitives: RSA identity keys (RSA-PSS signatures, node ids) and ECDH session keys.
//!
//! Thin, typed wrappers over OpenSSL so the rest of the core never touches raw `PKey`s by
//! accident. Identity SPKIs are always re-encoded in the `rsaEncryption` form, because node ids
//! are digests of that form (an `id-RSASSA-PSS` SPKI would give another id).

use std::fmt;

use const_oid::ObjectIdentifier;
use openssl::bn::BigNumContext;
use openssl::derive::Deriver;
use openssl::ec::{EcGroup, EcKey, PointConversionForm};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private, Public};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Signer, Verifier};

use super::error::CryptoError;
use super::limits::{RSA_MODULUS_BITS, SESSION_KEY_ID_LENGTH};

// === HashAlgorithm ===

/// The SHA-2 digests Awala uses for signatures and key derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    pub const SHA256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub const SHA384_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub const SHA512_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

    pub fn oid(self) -> ObjectIdentifier {
        match self {
            HashAlgorithm::Sha256 => Self::SHA256_OID,
            HashAlgorithm::Sha384 => Self::SHA384_OID,
            HashAlgorithm::Sha512 => Self::SHA512_OID,
        }
    }

    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            Self::SHA256_OID => Some(HashAlgorithm::Sha256),
            Self::SHA384_OID => Some(HashAlgorithm::Sha384),
            Self::SHA512_OID => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }

    /// Digest length in octets, which is also the PSS salt length the libraries use.
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlgorithm::Sha256 => openssl::sha::sha256(data).to_vec(),
            HashAlgorithm::Sha384 => openssl::sha::sha384(data).to_vec(),
            HashAlgorithm::Sha512 => openssl::sha::sha512(data).to_vec(),
        }
    }

    pub fn message_digest(self) -> MessageDigest {
        match self {
            HashAlgorithm::Sha256 => MessageDigest::sha256(),
            HashAlgorithm::Sha384 => MessageDigest::sha384(),
            HashAlgorithm::Sha512 => MessageDigest::sha512(),
        }
    }
}

/// SHA-256, the digest behind node ids, key identifiers and object keys.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    openssl::sha::sha256(data)
}

/// Cryptographically secure random octets.
pub fn random_bytes(length: usize) -> Vec<u8> {
    let mut buffer = vec![0u8; length];
    openssl::rand::rand_bytes(&mut buffer).expect("the system random generator failed");
    buffer
}

// === RSA-PSS parameters ===

/// RSASSA-PSS parameters as carried in an `AlgorithmIdentifier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PssParams {
    pub hash: HashAlgorithm,
    pub mgf1_hash: HashAlgorithm,
    pub salt_length: usize,
}

impl PssParams {
    /// The parameters both libraries produce: MGF1 with the same hash, salt as long as the digest.
    pub fn for_hash(hash: HashAlgorithm) -> Self {
        PssParams {
            hash,
            mgf1_hash: hash,
            salt_length: hash.output_len(),
        }
    }
}

// === Identity keys ===

/// An RSA identity private key.
#[derive(Clone)]
pub struct IdentityPrivateKey {
    pkey: PKey<Private>,
}

impl IdentityPrivateKey {
    /// A new key with a modulus of 2048, 3072 or 4096 bits.
    pub fn generate(modulus_bits: u32) -> Result<Self, CryptoError> {
        check_modulus(modulus_bits)?;
        let rsa = Rsa::generate(modulus_bits)?;
        Ok(IdentityPrivateKey {
            pkey: PKey::from_rsa(rsa)?,
        })
    }

    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let pkey = PKey::private_key_from_pkcs8(der)
            .or_else(|_| PKey::private_key_from_der(der))
            .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        if pkey.id() != Id::RSA && pkey.id() != Id::RSA_PSS {
            return Err(CryptoError::UnsupportedKey(
                "identity keys must be rsa".to_string(),
            ));
        }
        let rsa = pkey.rsa()?;
        check_modulus(pkey.bits())?;
        Ok(IdentityPrivateKey {
            pkey: PKey::from_rsa(rsa)?,
        })
    }

    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, CryptoError> {
        Ok(self.pkey.private_key_to_pkcs8()?)
    }

    pub fn public_key(&self) -> IdentityPublicKey {
        let rsa = self.pkey.rsa().expect("identity keys are rsa");
        let public = Rsa::from_public_components(
            rsa.n().to_owned().expect("bignum copy"),
            rsa.e().to_owned().expect("bignum copy"),
        )
        .expect("valid rsa components");
        IdentityPublicKey::from_pkey(PKey::from_rsa(public).expect("rsa public key"))
    }

    pub fn modulus_bits(&self) -> u32 {
        self.pkey.bits()
    }

    /// RSASSA-PSS signature over `data` (the digest is computed here).
    pub fn sign_pss(&self, data: &[u8], params: PssParams) -> Result<Vec<u8>, CryptoError> {
        let mut signer = Signer::new(params.hash.message_digest(), &self.pkey)?;
        signer.set_rsa_padding(Padding::PKCS1_PSS)?;
        signer.set_rsa_pss_saltlen(RsaPssSaltlen::custom(params.salt_length as i32))?;
        signer.set_rsa_mgf1_md(params.mgf1_hash.message_digest())?;
        signer.update(data)?;
        Ok(signer.sign_to_vec()?)
    }

    pub fn pkey(&self) -> &PKey<Private> {
        &self.pkey
    }
}

impl fmt::Debug for IdentityPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityPrivateKey({})", self.public_key().node_id())
    }
}

/// An RSA identity public key, kept with its canonical (`rsaEncryption`) SPKI encoding.
#[derive(Clone)]
pub struct IdentityPublicKey {
    pkey: PKey<Public>,
    spki_der: Vec<u8>,
}

impl IdentityPublicKey {
    /// Parses an SPKI, accepting both `rsaEncryption` and `id-RSASSA-PSS` algorithm ids.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        // Fast path for the usual `rsaEncryption` SPKI: OpenSSL 3's generic decoder and encoder
        // (`d2i_PUBKEY`/`i2d_PUBKEY`) cost ~0.3 ms each, the RSA-specific ones ~10 µs, and every
        // certificate of every parcel comes through here.
        if let Ok(rsa) = Rsa::public_key_from_der(der) {
            let pkey = PKey::from_rsa(rsa)?;
            check_modulus(pkey.bits())?;
            let spki_der = pkey.rsa()?.public_key_to_der()?;
            return Ok(IdentityPublicKey { pkey, spki_der });
        }
        let pkey =
            PKey::public_key_from_der(der).map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        match pkey.id() {
            Id::RSA => {
                check_modulus(pkey.bits())?;
                Ok(Self::from_pkey(pkey))
            }
            Id::RSA_PSS => {
                check_modulus(pkey.bits())?;
                let rsa = pkey.rsa()?;
                Ok(Self::from_pkey(PKey::from_rsa(rsa)?))
            }
            _ => Err(CryptoError::UnsupportedKey(
                "identity keys must be rsa".to_string(),
            )),
        }
    }

    /// Builds a key from a PKCS#1 `RSAPublicKey` (the content of an RSA SPKI's BIT STRING).
    ///
    /// Same result as [`Self::from_spki_der`] but about a hundred times cheaper on OpenSSL 3.0,
    /// whose generic SPKI decoder costs more than the RSA verification itself; the CMS verify
    /// path uses this after walking the SPKI.
    pub fn from_rsa_public_key_der(der: &[u8]) -> Result<Self, CryptoError> {
        let rsa = Rsa::public_key_from_der_pkcs1(der)
            .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        let pkey = PKey::from_rsa(rsa)?;
        check_modulus(pkey.bits())?;
        Ok(Self::from_pkey(pkey))
    }

    fn from_pkey(pkey: PKey<Public>) -> Self {
        // The RSA-specific encoder: OpenSSL 3's generic one costs ~0.3 ms (see from_spki_der).
        let spki_der = pkey
            .rsa()
            .and_then(|rsa| rsa.public_key_to_der())
            .expect("rsa spki encoding");
        IdentityPublicKey { pkey, spki_der }
    }

    /// The SPKI in `rsaEncryption` + NULL form, as hashed into node ids.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// SHA-256 of the SPKI: the key identifier in SKI/AKI extensions and PNRA gateway data.
    pub fn digest(&self) -> [u8; 32] {
        sha256(&self.spki_der)
    }

    /// The node id: `"0"` followed by the lowercase hex SHA-256 of the SPKI (65 characters).
    pub fn node_id(&self) -> String {
        node_id_from_digest(&self.digest())
    }

    pub fn modulus_bits(&self) -> u32 {
        self.pkey.bits()
    }

    /// Checks an RSASSA-PSS signature over `data`. `Ok(false)` means a wrong signature.
    pub fn verify_pss(
        &self,
        data: &[u8],
        signature: &[u8],
        params: PssParams,
    ) -> Result<bool, CryptoError> {
        let mut verifier = Verifier::new(params.hash.message_digest(), &self.pkey)?;
        verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
        verifier.set_rsa_pss_saltlen(RsaPssSaltlen::custom(params.salt_length as i32))?;
        verifier.set_rsa_mgf1_md(params.mgf1_hash.message_digest())?;
        verifier.update(data)?;
        // OpenSSL reports a bad signature as an error on some paths; both mean "does not verify".
        Ok(verifier.verify(signature).unwrap_or(false))
    }

    pub fn pkey(&self) -> &PKey<Public> {
        &self.pkey
    }
}

impl PartialEq for IdentityPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki_der == other.spki_der
    }
}

impl Eq for IdentityPublicKey {}

impl fmt::Debug for IdentityPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityPublicKey({})", self.node_id())
    }
}

/// Node id from a 32-byte SHA-256 key digest.
pub fn node_id_from_digest(digest: &[u8]) -> String {
    let mut id = String::with_capacity(1 + digest.len() * 2);
    id.push('0');
    id.push_str(&hex::encode(digest));
    id
}

fn check_modulus(bits: u32) -> Result<(), CryptoError> {
    if RSA_MODULUS_BITS.contains(&bits) {
        Ok(())
    } else {
        Err(CryptoError::UnsupportedKey(format!(
            "rsa modulus of {bits} bits (expected 2048, 3072 or 4096)"
        )))
    }
}

// === Session keys ===

/// The elliptic curves allowed for channel session keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcCurve {
    P256,
    P384,
    P521,
}

impl EcCurve {
    pub const P256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    pub const P384_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
    pub const P521_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

    pub fn oid(self) -> ObjectIdentifier {
        match self {
            EcCurve::P256 => Self::P256_OID,
            EcCurve::P384 => Self::P384_OID,
            EcCurve::P521 => Self::P521_OID,
        }
    }

    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            Self::P256_OID => Some(EcCurve::P256),
            Self::P384_OID => Some(EcCurve::P384),
            Self::P521_OID => Some(EcCurve::P521),
            _ => None,
        }
    }

    fn nid(self) -> Nid {
        match self {
            EcCurve::P256 => Nid::X9_62_PRIME256V1,
            EcCurve::P384 => Nid::SECP384R1,
            EcCurve::P521 => Nid::SECP521R1,
        }
    }

    fn from_nid(nid: Nid) -> Option<Self> {
        match nid {
            Nid::X9_62_PRIME256V1 => Some(EcCurve::P256),
            Nid::SECP384R1 => Some(EcCurve::P384),
            Nid::SECP521R1 => Some(EcCurve::P521),
            _ => None,
        }
    }

    fn group(self) -> EcGroup {
        EcGroup::from_curve_name(self.nid()).expect("named curve")
    }
}

/// The id of a session key: 8 random octets, compared as raw bytes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKeyId(Vec<u8>);

impl SessionKeyId {
    pub fn random() -> Self {
        SessionKeyId(random_bytes(SESSION_KEY_ID_LENGTH))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl From<Vec<u8>> for SessionKeyId {
    fn from(bytes: Vec<u8>) -> Self {
        SessionKeyId(bytes)
    }
}

impl From<&[u8]> for SessionKeyId {
    fn from(bytes: &[u8]) -> Self {
        SessionKeyId(bytes.to_vec())
    }
}

impl fmt::Debug for SessionKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionKeyId({})", self.to_hex())
    }
}

impl fmt::Display for SessionKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An ECDH private key for the channel session protocol.
#[derive(Clone)]
pub struct SessionPrivateKey {
    pkey: PKey<Private>,
    curve: EcCurve,
}

impl SessionPrivateKey {
    pub fn generate(curve: EcCurve) -> Result<Self, CryptoError> {
        let ec = EcKey::generate(&curve.group())?;
        Ok(SessionPrivateKey {
            pkey: PKey::from_ec_key(ec)?,
            curve,
        })
    }

    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let pkey = PKey::private_key_from_pkcs8(der)
            .or_else(|_| PKey::private_key_from_der(der))
            .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        let curve = ec_curve_of(pkey.ec_key().ok().as_ref().map(|k| k.group().curve_name()))?;
        Ok(SessionPrivateKey { pkey, curve })
    }

    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, CryptoError> {
        Ok(self.pkey.private_key_to_pkcs8()?)
    }

    pub fn curve(&self) -> EcCurve {
        self.curve
    }

    pub fn public_key(&self) -> SessionPublicKey {
        let spki = self
            .pkey
            .public_key_to_der()
            .expect("ec public key encoding");
        SessionPublicKey::from_spki_der(&spki).expect("own public key parses")
    }

    /// The ECDH shared secret (the x coordinate, as RFC 5753 uses it).
    pub fn derive_shared_secret(&self, peer: &SessionPublicKey) -> Result<Vec<u8>, CryptoError> {
        if peer.curve != self.curve {
            return Err(CryptoError::UnsupportedKey(
                "session keys are on different curves".to_string(),
            ));
        }
        let mut deriver = Deriver::new(&self.pkey)?;
        deriver.set_peer(&peer.pkey)?;
        Ok(deriver.derive_to_vec()?)
    }

    pub fn pkey(&self) -> &PKey<Private> {
        &self.pkey
    }
}

impl fmt::Debug for SessionPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionPrivateKey({:?})", self.curve)
    }
}

/// An ECDH public key, kept with its SPKI encoding.
#[derive(Clone)]
pub struct SessionPublicKey {
    pkey: PKey<Public>,
    curve: EcCurve,
    spki_der: Vec<u8>,
}

impl SessionPublicKey {
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        let pkey =
            PKey::public_key_from_der(der).map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        let ec = pkey
            .ec_key()
            .map_err(|_| CryptoError::UnsupportedKey("session keys must be ec".to_string()))?;
        let curve = ec_curve_of(Some(ec.group().curve_name()))?;
        ec.check_key()
            .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        let spki_der = pkey.public_key_to_der()?;
        Ok(SessionPublicKey {
            pkey,
            curve,
            spki_der,
        })
    }

    /// A key from an uncompressed (or compressed) point on `curve`, as in a KARI originator.
    pub fn from_point(curve: EcCurve, point: &[u8]) -> Result<Self, CryptoError> {
        let group = curve.group();
        let mut ctx = BigNumContext::new()?;
        let point = openssl::ec::EcPoint::from_bytes(&group, point, &mut ctx)
            .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        let ec = EcKey::from_public_key(&group, &point)?;
        ec.check_key()
            .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        let pkey = PKey::from_ec_key(ec)?;
        let spki_der = pkey.public_key_to_der()?;
        Ok(SessionPublicKey {
            pkey,
            curve,
            spki_der,
        })
    }

    /// The uncompressed point (`04 || x || y`).
    pub fn to_point(&self) -> Vec<u8> {
        let ec = self.pkey.ec_key().expect("session keys are ec");
        let mut ctx = BigNumContext::new().expect("bignum context");
        ec.public_key()
            .to_bytes(ec.group(), PointConversionForm::UNCOMPRESSED, &mut ctx)
            .expect("point encoding")
    }

    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    pub fn curve(&self) -> EcCurve {
        self.curve
    }

    pub fn pkey(&self) -> &PKey<Public> {
        &self.pkey
    }
}

impl PartialEq for SessionPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki_der == other.spki_der
    }
}

impl Eq for SessionPublicKey {}

impl fmt::Debug for SessionPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionPublicKey({:?})", self.curve)
    }
}

fn ec_curve_of(nid: Option<Option<Nid>>) -> Result<EcCurve, CryptoError> {
    nid.flatten().and_then(EcCurve::from_nid).ok_or_else(|| {
        CryptoError::UnsupportedKey("session keys must be on p-256, p-384 or p-521".to_string())
    })
}

/// A session public key with its id: what a node hands its peers (PNR, connection params, KARI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKey {
    pub id: SessionKeyId,
    pub public_key: SessionPublicKey,
}

/// A freshly generated session key pair with a random id.
#[derive(Debug, Clone)]
pub struct SessionKeyPair {
    pub id: SessionKeyId,
    pub private_key: SessionPrivateKey,
}

impl SessionKeyPair {
    pub fn generate(curve: EcCurve) -> Result<Self, CryptoError> {
        Ok(SessionKeyPair {
            id: SessionKeyId::random(),
            private_key: SessionPrivateKey::generate(curve)?,
        })
    }

    pub fn session_key(&self) -> SessionKey {
        SessionKey {
            id: self.id.clone(),
            public_key: self.private_key.public_key(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_id_is_zero_and_hex_sha256_of_rsa_encryption_spki() {
        let key = IdentityPrivateKey::generate(2048).unwrap();
        let public = key.public_key();
        let spki = public.spki_der();
        // rsaEncryption OID with NULL parameters.
        assert_eq!(
            &spki[4..19],
            &hex::decode("300d06092a864886f70d0101010500").unwrap()[..]
        );
        let id = public.node_id();
        assert_eq!(id.len(), 65);
        assert_eq!(id, format!("0{}", hex::encode(sha256(spki))));
    }

    #[test]
    fn pss_signatures_verify_only_with_the_right_key_and_data() {
        let key = IdentityPrivateKey::generate(2048).unwrap();
        for hash in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ] {
            let params = PssParams::for_hash(hash);
            let signature = key.sign_pss(b"data", params).unwrap();
            assert!(key
                .public_key()
                .verify_pss(b"data", &signature, params)
                .unwrap());
            assert!(!key
                .public_key()
                .verify_pss(b"other", &signature, params)
                .unwrap());
        }
        let other = IdentityPrivateKey::generate(2048).unwrap();
        let signature = key
            .sign_pss(b"data", PssParams::for_hash(HashAlgorithm::Sha256))
            .unwrap();
        assert!(!other
            .public_key()
            .verify_pss(
                b"data",
                &signature,
                PssParams::for_hash(HashAlgorithm::Sha256)
            )
            .unwrap());
    }

    #[test]
    fn identity_keys_round_trip_through_pkcs8() {
        let key = IdentityPrivateKey::generate(2048).unwrap();
        let restored = IdentityPrivateKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(restored.public_key(), key.public_key());
    }

    #[test]
    fn unsupported_modulus_is_refused() {
        assert!(IdentityPrivateKey::generate(1024).is_err());
    }

    #[test]
    fn ecdh_agrees_on_every_curve() {
        for curve in [EcCurve::P256, EcCurve::P384, EcCurve::P521] {
            let a = SessionKeyPair::generate(curve).unwrap();
            let b = SessionKeyPair::generate(curve).unwrap();
            let ab = a
                .private_key
                .derive_shared_secret(&b.private_key.public_key())
                .unwrap();
            let ba = b
                .private_key
                .derive_shared_secret(&a.private_key.public_key())
                .unwrap();
            assert_eq!(ab, ba);
            let point = a.private_key.public_key().to_point();
            let from_point = SessionPublicKey::from_point(curve, &point).unwrap();
            assert_eq!(from_point, a.private_key.public_key());
            let restored =
                SessionPrivateKey::from_pkcs8_der(&a.private_key.to_pkcs8_der().unwrap()).unwrap();
            assert_eq!(restored.public_key(), a.private_key.public_key());
        }
    }
}
