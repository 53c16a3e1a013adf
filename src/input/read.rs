//! Reading a document whole, the one way both an input and a link's target are read (so
//! their anchors agree): bounded in size, refused when it is not text, without a byte-order
//! mark.

use std::io::Read;

/// A document larger than this is reported, not read: memory follows the largest document.
const MAX_DOCUMENT: u64 = 256 * 1024 * 1024;
/// A NUL byte this early says the file is not text.
const SNIFF: usize = 8 * 1024;

/// The whole document without a UTF-8 byte-order mark, or why it cannot be read.
pub(super) fn read_document(source: impl Read) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    source
        .take(MAX_DOCUMENT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > MAX_DOCUMENT {
        return Err(format!(
            "larger than {} MiB, more than a document may be",
            MAX_DOCUMENT >> 20
        ));
    }
    if let Some(at) = bytes[..bytes.len().min(SNIFF)].iter().position(|&b| b == 0) {
        return Err(format!("not a text file (a NUL byte at byte {})", at + 1));
    }
    // Editors do not count the mark as a column, so neither do the positions of line 1.
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    Ok(bytes)
}

const BOM: &[u8] = b"\xef\xbb\xbf";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_that_are_not_text_are_refused() {
        assert!(read_document(&b"\x7fELF\0\0"[..])
            .unwrap_err()
            .contains("NUL byte at byte 5"));
        assert_eq!(read_document(&b"<a href=x>"[..]).unwrap(), b"<a href=x>");
        assert_eq!(
            read_document(&b"\xef\xbb\xbf<a href=x>"[..]).unwrap(),
            b"<a href=x>"
        );
    }
}
