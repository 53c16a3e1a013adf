//! Byte offsets to 1-based line:column, the column counted in characters. One `Lines` walks a
//! document forward once: each query continues from the last one, so finding the positions of
//! every link costs one pass over the text, however many links and however long the lines.

/// A cursor over a document's bytes that turns offsets (asked for in increasing order) into
/// line:column. A line ends at `\n`, `\r\n` or a lone `\r`, as in HTML and CommonMark.
pub(super) struct Lines<'a> {
    text: &'a [u8],
    offset: usize,
    line: u32,
    column: u32,
}

impl<'a> Lines<'a> {
    pub(super) fn new(text: &'a [u8]) -> Self {
        Lines {
            text,
            offset: 0,
            line: 1,
            column: 1,
        }
    }

    /// The line and column of the byte at `target` (clamped to the end of the text). An offset
    /// before the previous one restarts from the top: correct, but callers sort their offsets
    /// so that it never happens.
    pub(super) fn at(&mut self, target: usize) -> (u32, u32) {
        let target = target.min(self.text.len());
        if target < self.offset {
            *self = Lines::new(self.text);
        }
        let span = &self.text[self.offset..target];
        let mut line_start = None;
        for i in memchr::memchr2_iter(b'\n', b'\r', span) {
            // The `\r` of a `\r\n` is not a break of its own: the `\n` is.
            if span[i] == b'\r' && self.text.get(self.offset + i + 1) == Some(&b'\n') {
                continue;
            }
            self.line = self.line.saturating_add(1);
            line_start = Some(i + 1);
        }
        self.column = match line_start {
            Some(start) => chars(&span[start..]).saturating_add(1),
            None => self.column.saturating_add(chars(span)),
        };
        self.offset = target;
        (self.line, self.column)
    }
}

/// Characters in `bytes`: every byte that does not continue a UTF-8 sequence. Exact for UTF-8;
/// for invalid bytes it counts what a lossy decoding shows, near enough.
fn chars(bytes: &[u8]) -> u32 {
    let n = bytes.iter().filter(|&&b| (b as i8) >= -0x40).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::Lines;

    fn at(text: &str, offsets: &[usize]) -> Vec<(u32, u32)> {
        let mut lines = Lines::new(text.as_bytes());
        offsets.iter().map(|&o| lines.at(o)).collect()
    }

    #[test]
    fn lines_and_columns_start_at_one() {
        assert_eq!(
            at("abc\ndef", &[0, 2, 4, 6]),
            [(1, 1), (1, 3), (2, 1), (2, 3)]
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        // "é" is 2 bytes, "😀" 4: the x after them is the 3rd character.
        let text = "é😀x\n😀y";
        assert_eq!(at(text, &[6, 12]), [(1, 3), (2, 2)]);
    }

    #[test]
    fn crlf_is_one_break_and_a_lone_cr_is_one_too() {
        assert_eq!(at("a\r\nb\rc\n\nd", &[3, 5, 8]), [(2, 1), (3, 1), (5, 1)]);
        // Stopping between the \r and the \n of a pair does not count the break twice.
        assert_eq!(at("a\r\nb", &[2, 3]), [(1, 3), (2, 1)]);
    }

    #[test]
    fn going_backwards_restarts_and_the_end_is_clamped() {
        assert_eq!(at("ab\ncd", &[4, 1, 99]), [(2, 2), (1, 2), (2, 3)]);
    }
}
