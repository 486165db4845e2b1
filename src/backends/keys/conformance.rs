//! The behaviour every [`KeySealer`] must show.
//!
//! An implementation runs the suite with `keys_conformance!(open(), open_other())`, where each
//! expression is a future of `(guard, Arc<dyn KeySealer>)` and the two use different KEKs.

use super::{KeySealer, NONCE_LENGTH, SEALED_FORMAT_VERSION, TAG_LENGTH};
use crate::backends::error::BackendErrorKind;

const KEY_ID: &[u8] = &[1, 2, 3, 4, 5, 6, 7, 8];
const PKCS8: &[u8] = b"\x30\x81\x87 pretend this is a pkcs#8 key";

/// What is sealed opens again with the same id; sealing twice gives different blobs.
pub async fn seal_round_trip(sealer: &dyn KeySealer) {
    let sealed = sealer.seal(KEY_ID, PKCS8).await.expect("seal");
    assert_eq!(sealed[0], SEALED_FORMAT_VERSION);
    assert_eq!(sealed.len(), 1 + NONCE_LENGTH + PKCS8.len() + TAG_LENGTH);
    assert!(
        !sealed.windows(PKCS8.len()).any(|w| w == PKCS8),
        "no plaintext"
    );
    assert_eq!(sealer.unseal(KEY_ID, &sealed).await.expect("unseal"), PKCS8);
    let again = sealer.seal(KEY_ID, PKCS8).await.expect("seal");
    assert_ne!(again, sealed, "fresh nonce each time");
    sealer.health_check().await.expect("healthy");
}

/// A blob opened under another id, tampered with, truncated or of another version is corrupt.
pub async fn wrong_id_or_tampering_fails(sealer: &dyn KeySealer) {
    let sealed = sealer.seal(KEY_ID, PKCS8).await.expect("seal");
    let corrupt = |result: Result<Vec<u8>, crate::backends::BackendError>| {
        assert_eq!(
            result.expect_err("must fail").kind,
            BackendErrorKind::Corrupt
        );
    };
    corrupt(sealer.unseal(b"another-id", &sealed).await);
    for index in [0, 1, 1 + NONCE_LENGTH, sealed.len() - 1] {
        let mut tampered = sealed.clone();
        tampered[index] ^= 0x01;
        corrupt(sealer.unseal(KEY_ID, &tampered).await);
    }
    corrupt(sealer.unseal(KEY_ID, &sealed[..NONCE_LENGTH]).await);
    corrupt(sealer.unseal(KEY_ID, &[]).await);
}

/// A blob sealed under another KEK does not open.
pub async fn other_kek_fails(sealer: &dyn KeySealer, other: &dyn KeySealer) {
    let sealed = other.seal(KEY_ID, PKCS8).await.expect("seal");
    let error = sealer.unseal(KEY_ID, &sealed).await.expect_err("other kek");
    assert_eq!(error.kind, BackendErrorKind::Corrupt);
}

/// Runs every sealer check as its own `#[tokio::test]`.
#[macro_export]
macro_rules! keys_conformance {
    ($open:expr, $open_other:expr) => {
        #[tokio::test]
        async fn seal_round_trip() {
            let (_guard, sealer) = $open.await;
            $crate::backends::keys::conformance::seal_round_trip(&*sealer).await;
        }

        #[tokio::test]
        async fn wrong_id_or_tampering_fails() {
            let (_guard, sealer) = $open.await;
            $crate::backends::keys::conformance::wrong_id_or_tampering_fails(&*sealer).await;
        }

        #[tokio::test]
        async fn other_kek_fails() {
            let (_guard, sealer) = $open.await;
            let (_other_guard, other) = $open_other.await;
            $crate::backends::keys::conformance::other_kek_fails(&*sealer, &*other).await;
        }
    };
}
