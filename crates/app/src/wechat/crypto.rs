//! WeChat's message security, as its documentation for official accounts lays it out:
//! the SHA-1 signature of the sorted token, timestamp, nonce (and ciphertext), and the
//! safe mode's AES-256-CBC (key: the EncodingAESKey decoded; IV: the key's first 16 bytes;
//! padding: PKCS#7 to 32-byte blocks) of `16 random bytes ‖ length (4 bytes, big-endian) ‖
//! message ‖ AppID`, in Base64.

use aes::Aes256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use sha1::{Digest, Sha1};

/// WeChat pads to 32 bytes, twice AES's block.
const PAD_BLOCK: usize = 32;

/// The hex SHA-1 of the parts sorted and joined: `signature` (token, timestamp, nonce) and
/// `msg_signature` (the same and the ciphertext).
pub fn signature(parts: &[&str]) -> String {
    let mut parts = parts.to_vec();
    parts.sort_unstable();
    hex::encode(Sha1::digest(parts.concat().as_bytes()))
}

/// Compares two signatures in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Why a ciphertext was refused (nothing of it is trusted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the ciphertext is not Base64 of whole blocks")]
    Encoding,
    #[error("the ciphertext does not decrypt to a message")]
    Malformed,
    #[error("the message is for another account")]
    OtherAccount,
}

/// The safe mode of one official account.
#[derive(Clone)]
pub struct Cipher {
    key: [u8; 32],
    app_id: String,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cipher")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl Cipher {
    /// The cipher of an EncodingAESKey (43 characters of Base64) and the account's AppID.
    pub fn new(encoding_aes_key: &str, app_id: &str) -> Result<Cipher, String> {
        // WeChat's keys are 43 random characters: the last one's two spare bits need not
        // be zero, as strict decoders would have them.
        let lenient = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
        );
        let bytes = lenient
            .decode(format!("{}=", encoding_aes_key.trim()))
            .map_err(|_| "the EncodingAESKey is not 43 characters of Base64".to_string())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the EncodingAESKey is not 43 characters of Base64".to_string())?;
        Ok(Cipher {
            key,
            app_id: app_id.to_string(),
        })
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }

    /// The message inside a ciphertext of this account.
    pub fn decrypt(&self, encrypted: &str) -> Result<String, CryptoError> {
        let data = STANDARD
            .decode(encrypted.trim())
            .map_err(|_| CryptoError::Encoding)?;
        if data.is_empty() || data.len() % PAD_BLOCK != 0 {
            return Err(CryptoError::Encoding);
        }
        let plain = cbc::Decryptor::<Aes256>::new(&self.key.into(), &self.iv().into())
            .decrypt_padded_vec::<NoPadding>(&data)
            .map_err(|_| CryptoError::Encoding)?;
        let pad = usize::from(*plain.last().ok_or(CryptoError::Malformed)?);
        if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
            return Err(CryptoError::Malformed);
        }
        let body = &plain[..plain.len() - pad];
        if body.len() < 20 {
            return Err(CryptoError::Malformed);
        }
        let len = u32::from_be_bytes([body[16], body[17], body[18], body[19]]) as usize;
        let rest = &body[20..];
        if len > rest.len() {
            return Err(CryptoError::Malformed);
        }
        let (message, app_id) = rest.split_at(len);
        if !same(&String::from_utf8_lossy(app_id), &self.app_id) {
            return Err(CryptoError::OtherAccount);
        }
        String::from_utf8(message.to_vec()).map_err(|_| CryptoError::Malformed)
    }

    /// A message encrypted for WeChat, with the 16 random bytes it starts with.
    pub fn encrypt(&self, message: &str, random: [u8; 16]) -> String {
        let mut plain = Vec::with_capacity(message.len() + self.app_id.len() + 20 + PAD_BLOCK);
        plain.extend_from_slice(&random);
        plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(self.app_id.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        let data = cbc::Encryptor::<Aes256>::new(&self.key.into(), &self.iv().into())
            .encrypt_padded_vec::<NoPadding>(&plain);
        STANDARD.encode(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key and AppID of no account (43 characters of Base64 make 32 bytes).
    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const APP_ID: &str = "wx0123456789abcdef";

    #[test]
    fn signatures_sort_their_parts() {
        // sha1("1409659813" ‖ "263014780" ‖ "token") — the parts sorted — worked out
        // with `printf %s 1409659813263014780token | sha1sum`.
        assert_eq!(
            signature(&["token", "1409659813", "263014780"]),
            "95466e66818a4e5ab2ec9e571d000a9489c97169"
        );
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }

    #[test]
    fn what_is_encrypted_decrypts_and_only_for_its_account() {
        let c = Cipher::new(KEY, APP_ID).unwrap();
        // 31 bytes of message with the prefix and AppID: padded past one block.
        for message in ["<xml><Content>路灯</Content></xml>", "", &"长".repeat(500)] {
            let e = c.encrypt(message, [7; 16]);
            assert_eq!(c.decrypt(&e).unwrap(), message);
        }
        let other = Cipher::new(KEY, "wx_other_account").unwrap();
        assert_eq!(
            other.decrypt(&c.encrypt("<xml/>", [7; 16])),
            Err(CryptoError::OtherAccount)
        );
        assert_eq!(c.decrypt("not base64!"), Err(CryptoError::Encoding));
        assert_eq!(c.decrypt("AAAA"), Err(CryptoError::Encoding));
        assert!(Cipher::new("short", APP_ID).is_err());
    }

    #[test]
    fn the_same_bytes_as_wechatpy() {
        // wechatpy 1.8.18's PrpCrypto with its random prefix fixed to "0123456789abcdef":
        // `PrpCrypto(key).encrypt("<xml><Content><![CDATA[路灯不亮]]></Content></xml>",
        // "wx0123456789abcdef")`.
        const WECHATPY: &str = "Q3stYC6hdFzMh9T8HCvyDJurXWZwqfFvUvCwl1qa/K78ZGeTTeVq6PCXZPfLSmKl4hzA2GIAz5y5IeQr4u8J0oKx3c9/lWpkWhrHzVWGZlT7d6WtIXAq1q9cXijfFiYx";
        let c = Cipher::new(KEY, APP_ID).unwrap();
        let message = "<xml><Content><![CDATA[路灯不亮]]></Content></xml>";
        assert_eq!(c.encrypt(message, *b"0123456789abcdef"), WECHATPY);
        assert_eq!(c.decrypt(WECHATPY).unwrap(), message);
    }
}
