//! Attachment storage on disk under the data folder.
//!
//! Each file lives at `<data>/files/<key>` where the key is 32 random hex characters: names
//! given by clients never reach the file system. Uploads are written while they stream in
//! (bounded memory) into a temporary name and renamed once complete, so a half-written file
//! is never visible under a key.

use std::io;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// The folder holding every attachment.
pub fn files_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("files")
}

/// Whether a storage key is one this module generated (no path tricks possible).
pub fn valid_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

fn path_of(data_dir: &Path, key: &str) -> io::Result<PathBuf> {
    if !valid_key(key) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "invalid storage key"));
    }
    Ok(files_dir(data_dir).join(key))
}

fn new_key() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

/// A file being written. Dropped without [`Upload::finish`], it removes what it wrote.
pub struct Upload {
    key: String,
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<tokio::fs::File>,
    size: u64,
    /// The first bytes, kept to sniff the content type.
    head: Vec<u8>,
}

/// How many leading bytes are kept for content-type sniffing.
pub const SNIFF_BYTES: usize = 8192;

impl Upload {
    pub async fn create(data_dir: &Path) -> io::Result<Upload> {
        let dir = files_dir(data_dir);
        tokio::fs::create_dir_all(&dir).await?;
        let key = new_key();
        let tmp = dir.join(format!("{key}.part"));
        let dest = dir.join(&key);
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&tmp).await?;
        Ok(Upload { key, tmp, dest, file: Some(file), size: 0, head: Vec::new() })
    }

    pub async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        if self.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.size += chunk.len() as u64;
        match self.file.as_mut() {
            Some(f) => f.write_all(chunk).await,
            None => Err(io::Error::other("upload already finished")),
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// Flushes to disk and publishes the file under its key.
    pub async fn finish(mut self) -> io::Result<String> {
        if let Some(mut f) = self.file.take() {
            f.flush().await?;
            f.sync_all().await?;
        }
        tokio::fs::rename(&self.tmp, &self.dest).await?;
        Ok(std::mem::take(&mut self.key))
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.key.is_empty() {
            // Not finished: the partial file must not stay behind.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Opens a stored file for reading.
pub async fn open(data_dir: &Path, key: &str) -> io::Result<tokio::fs::File> {
    tokio::fs::File::open(path_of(data_dir, key)?).await
}

/// Removes a stored file; a file already gone is not an error.
pub async fn delete(data_dir: &Path, key: &str) -> io::Result<()> {
    match tokio::fs::remove_file(path_of(data_dir, key)?).await {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// The content type of a file from its first bytes; the client's claim is never used.
pub fn sniff_content_type(head: &[u8], complete: bool) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_string();
    }
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        // The sniffing window may cut a multi-byte character in two.
        Err(e) => !complete && e.error_len().is_none() && head.len() >= SNIFF_BYTES - 4,
    };
    if text && !head.contains(&0) { "text/plain".to_string() } else { "application/octet-stream".to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];
        assert_eq!(sniff_content_type(&png, true), "image/png");
        assert_eq!(sniff_content_type("hola, ¿qué tal?".as_bytes(), true), "text/plain");
        assert_eq!(sniff_content_type(&[0xff, 0xfe, 0x00, 0x01], true), "application/octet-stream");
    }

    #[test]
    fn keys() {
        assert!(valid_key(&new_key()));
        assert!(!valid_key("../../etc/passwd"));
        assert!(!valid_key(""));
    }

    #[tokio::test]
    async fn upload_roundtrip_and_cleanup() {
        let dir = std::env::temp_dir().join(format!("charla-files-test-{}", new_key()));
        let mut up = Upload::create(&dir).await.unwrap_or_else(|e| panic!("{e}"));
        up.write(b"hello ").await.unwrap_or_else(|e| panic!("{e}"));
        up.write(b"world").await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(up.size(), 11);
        let key = up.finish().await.unwrap_or_else(|e| panic!("{e}"));
        let mut f = open(&dir, &key).await.unwrap_or_else(|e| panic!("{e}"));
        let mut s = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut f, &mut s).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s, "hello world");
        delete(&dir, &key).await.unwrap_or_else(|e| panic!("{e}"));
        delete(&dir, &key).await.unwrap_or_else(|e| panic!("{e}"));

        let mut abandoned = Upload::create(&dir).await.unwrap_or_else(|e| panic!("{e}"));
        abandoned.write(b"partial").await.unwrap_or_else(|e| panic!("{e}"));
        drop(abandoned);
        let left = std::fs::read_dir(files_dir(&dir)).map(|d| d.count()).unwrap_or(0);
        assert_eq!(left, 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
